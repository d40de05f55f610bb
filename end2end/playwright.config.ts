import { defineConfig } from '@playwright/test';
import type { Options } from './tests/fixtures';

/** The e2e server: its own port, a fresh database, 5-second access tokens (silent refresh). */
const PORT = 3100;
export const BASE_URL = `http://127.0.0.1:${PORT}`;
/** A second server configured as in production: no lab. */
const NO_LAB_PORT = 3101;
export const NO_LAB_URL = `http://127.0.0.1:${NO_LAB_PORT}`;
/** The local OpenID provider (tools/oidc) the e2e server signs in with. */
const PROVIDER_PORT = 4410;
export const PROVIDER_URL = `http://127.0.0.1:${PROVIDER_PORT}`;
/** The e2e server's client secret at that provider (both run on loopback, for this run only). */
const PROVIDER_SECRET = 'e2e-only-client-secret-0123456789abcdef';

export default defineConfig<Options>({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['html', { open: 'never' }]],
  globalTeardown: './tests/server-log.teardown.ts',
  use: {
    baseURL: BASE_URL,
    // The browser asks for English (Accept-Language); the Korean specs ask for Korean.
    locale: 'en-US',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-gpu',
        '--disable-quic',
      ],
    },
  },
  // One project per auth mode: the shared specs run in both, the mode folders in one.
  projects: [
    {
      name: 'session',
      use: { mode: 'session' },
      testIgnore: ['**/token/**'],
    },
    {
      name: 'token',
      use: { mode: 'token' },
      // The lab's experiments are the same whatever the page's mode: they run once.
      testIgnore: ['**/session/**', '**/lab/**'],
    },
  ],
  webServer: [
    {
      // The server built by `cargo leptos build` (debug), serving the site in target/site: the
      // debug WASM (`--split`) or, as the test command builds it, the release WASM
      // (`--release --precompress --split --frontend-only`). Started fresh (new database) for
      // every run.
      // The server's log goes to target/e2e/server.log; the global teardown fails the run if it
      // shows a panic or an error (a 500 is logged as an error, with its cause).
      command:
        'rm -rf target/e2e && mkdir -p target/e2e && exec target/debug/server 2>target/e2e/server.log',
      cwd: '..',
      url: `${BASE_URL}/api/health`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      stderr: 'pipe',
      env: {
        LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
        LEPTOS_SITE_ROOT: 'target/site',
        DATABASE_URL: 'sqlite://target/e2e/authlab.db?mode=rwc',
        SECRETS_FILE: 'target/e2e/secrets.env',
        ACCESS_TOKEN_TTL_SECS: '5',
        RUST_LOG: 'warn',
        OIDC_ISSUER: PROVIDER_URL,
        OIDC_CLIENT_SECRET: PROVIDER_SECRET,
        OIDC_PROVIDER_NAME: 'Local Provider',
      },
    },
    {
      // The identity provider's own process (panva's oidc-provider), with this run's client.
      command: 'exec node tools/oidc/provider.mjs',
      cwd: '..',
      url: `${PROVIDER_URL}/.well-known/openid-configuration`,
      timeout: 30_000,
      reuseExistingServer: false,
      env: {
        OIDC_PORT: String(PROVIDER_PORT),
        OIDC_CLIENT_SECRET: PROVIDER_SECRET,
        OIDC_REDIRECT_URIS: `${BASE_URL}/auth/oidc/callback`,
        OIDC_POST_LOGOUT_URIS: `${BASE_URL}/session/login,${BASE_URL}/token/login`,
      },
    },
    {
      command:
        'rm -rf target/e2e-nolab && mkdir -p target/e2e-nolab && exec target/debug/server 2>target/e2e-nolab/server.log',
      cwd: '..',
      url: `${NO_LAB_URL}/api/health`,
      timeout: 60_000,
      reuseExistingServer: false,
      env: {
        LEPTOS_SITE_ADDR: `127.0.0.1:${NO_LAB_PORT}`,
        LEPTOS_SITE_ROOT: 'target/site',
        DATABASE_URL: 'sqlite://target/e2e-nolab/authlab.db?mode=rwc',
        SECRETS_FILE: 'target/e2e-nolab/secrets.env',
        LAB_SWITCHES: 'false',
        RUST_LOG: 'warn',
      },
    },
  ],
});
