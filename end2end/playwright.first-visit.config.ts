import { defineConfig } from '@playwright/test';
import base from './playwright.config';

/**
 * The first-visit report (scripts/first-visit.sh): bytes of WASM and JS a first visit downloads
 * and the times to first contentful paint and to hydrated, per page and mode, against the
 * site (WASM, JS, CSS) in FIRST_VISIT_SITE (by default target/site-release for a release
 * FIRST_VISIT_PROFILE, the default, and target/site for a debug one), served by the server of
 * FIRST_VISIT_SERVER (the same profile by default). A report, not a test of timings; it checks
 * the size budget.
 */
const PORT = 3400;
const PROFILE = process.env.FIRST_VISIT_PROFILE ?? 'release';
const SERVER = process.env.FIRST_VISIT_SERVER ?? PROFILE;
const SITE = process.env.FIRST_VISIT_SITE ?? (PROFILE === 'release' ? 'target/site-release' : 'target/site');

export default defineConfig({
  testDir: './perf',
  timeout: 300_000,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: { ...base.use, baseURL: `http://127.0.0.1:${PORT}` },
  webServer: {
    command: `rm -rf target/first-visit && mkdir -p target/first-visit && exec target/${SERVER}/server`,
    cwd: '..',
    url: `http://127.0.0.1:${PORT}/api/health`,
    timeout: 60_000,
    reuseExistingServer: false,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      LEPTOS_SITE_ROOT: SITE,
      DATABASE_URL: 'sqlite://target/first-visit/authlab.db?mode=rwc',
      SECRETS_FILE: 'target/first-visit/secrets.env',
      LAB_ATTACKER_ADDR: '127.0.0.1:0',
      RUST_LOG: 'warn',
    },
  },
});
