import { defineConfig } from '@playwright/test';
import base from './playwright.config';
import type { Options } from './tests/fixtures';

/**
 * The login, profile and devices flows in both modes against the cluster: three app servers
 * on PostgreSQL and Redis behind nginx (round robin, no sticky sessions), started by
 * scripts/cluster.sh with the debug build. Every page load and API call may land on any server.
 */
const LISTEN = '127.0.0.1:8180';
export const CLUSTER_URL = `http://${LISTEN}`;

export default defineConfig<Options>({
  ...base,
  testMatch: ['auth.spec.ts'],
  globalTeardown: undefined,
  use: { ...base.use, baseURL: CLUSTER_URL },
  projects: [
    { name: 'cluster-session', use: { mode: 'session' } },
    { name: 'cluster-token', use: { mode: 'token' } },
  ],
  webServer: {
    command: 'rm -rf target/cluster-e2e && exec scripts/cluster.sh',
    cwd: '..',
    // Ready when the API server, started last, answers through nginx.
    url: `${CLUSTER_URL}/resource/api/health`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      CLUSTER_PROFILE: 'debug',
      CLUSTER_DIR: 'target/cluster-e2e',
      CLUSTER_LISTEN: LISTEN,
      CLUSTER_FIRST_PORT: '3201',
      CLUSTER_API_ADDR: '127.0.0.1:3210',
      CLUSTER_REDIS_PREFIX: 'authlab-e2e-cluster:',
    },
  },
});
