import { test, expect, PASSWORD, watchConsole } from '../fixtures';
import type { Page } from '@playwright/test';
import { hydrated } from '../pages/app';
import { DevicesPage } from '../pages/devices';
import { LoginPage } from '../pages/login';
import { ProfilePage } from '../pages/profile';
import { signUpAndLogIn } from '../pages/flows';
import { SettingsPage, type Policy } from '../pages/settings';

// The e2e server issues 5-second access tokens (ACCESS_TOKEN_TTL_SECS=5).
const TOKEN_LIFETIME_MS = 5_000;

async function registerAndLogin(page: Page, username: string, policy: Policy) {
  const settings = new SettingsPage(page, 'token');
  await settings.goto();
  await settings.choose(policy);
  return signUpAndLogIn(page, 'token', username);
}

test('silent refresh keeps the user logged in for more than three token lifetimes', async ({ page, username }) => {
  test.setTimeout(60_000);
  const profile = await registerAndLogin(page, username, 'hardened');
  const started = Date.now();
  await expect
    .poll(async () => (await profile.counts()).rotations, { timeout: 30_000, intervals: [1_000] })
    .toBeGreaterThanOrEqual(3);
  await page.waitForTimeout(Math.max(0, 3 * TOKEN_LIFETIME_MS + 1_500 - (Date.now() - started)));
  const counts = await profile.counts();
  expect(Date.now() - started).toBeGreaterThan(3 * TOKEN_LIFETIME_MS);
  expect(counts.failed).toBe(0);
  expect(counts.ok).toBeGreaterThanOrEqual(7);
  expect(counts.rotations).toBeGreaterThanOrEqual(3);
  await profile.expectUser(username);
});

for (const policy of ['local_storage', 'hardened'] as const) {
  test(`two tabs refresh without logging each other out (${policy})`, async ({ page, context, username }) => {
    test.setTimeout(60_000);
    await registerAndLogin(page, username, policy);
    const second = await context.newPage();
    const secondErrors: string[] = [];
    watchConsole(second, secondErrors);
    const secondProfile = new ProfilePage(second, 'token');
    await secondProfile.goto();
    await secondProfile.expectUser(username);
    // Both tabs keep calling the server across three token lifetimes.
    await page.waitForTimeout(3 * TOKEN_LIFETIME_MS + 1_000);
    const first = await new ProfilePage(page, 'token').counts();
    const other = await secondProfile.counts();
    expect(first.failed).toBe(0);
    expect(other.failed).toBe(0);
    expect(first.ok).toBeGreaterThan(5);
    expect(other.ok).toBeGreaterThan(5);
    await new ProfilePage(page, 'token').expectUser(username);
    await secondProfile.expectUser(username);
    expect(secondErrors).toEqual([]);
  });
}

const survivesReload: Record<Policy, boolean> = {
  local_storage: true,
  session_storage: true,
  hardened: true,
  memory: false,
};

for (const [policy, survives] of Object.entries(survivesReload) as [Policy, boolean][]) {
  test(`a reload ${survives ? 'keeps' : 'loses'} the login under ${policy}`, async ({ page, username }) => {
    const profile = await registerAndLogin(page, username, policy);
    await page.reload();
    await hydrated(page);
    if (survives) {
      await profile.expectUser(username);
    } else {
      await expect(page).toHaveURL(/\/token\/login\?next=\/token\/profile/);
    }
  });
}

test('the hardened policy leaves nothing for page scripts to steal but the access token', async ({ page, username }) => {
  await registerAndLogin(page, username, 'hardened');
  const exposed = await page.evaluate(() => ({
    cookies: document.cookie,
    local: JSON.stringify(localStorage),
    session: JSON.stringify(sessionStorage),
  }));
  expect(exposed.cookies).not.toContain('authlab_refresh');
  expect(exposed.local).not.toContain('refresh_token');
  expect(exposed.local).not.toContain('access_token');
  expect(exposed.session).not.toContain('token');
});

test('when the login is revoked elsewhere, the tab lands on the login page with the reason', async ({ page, browser, username }) => {
  test.setTimeout(60_000);
  await registerAndLogin(page, username, 'hardened');
  // From another browser, in session mode, revoke every other device.
  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  const otherLogin = new LoginPage(other, 'session');
  await otherLogin.goto();
  await otherLogin.login(username, PASSWORD);
  await new ProfilePage(other, 'session').expectUser(username);
  const devices = new DevicesPage(other, 'session');
  await devices.goto();
  await expect(devices.rows).toHaveCount(2);
  await devices.revokeAllOthers();
  await expect(devices.rows).toHaveCount(1);
  await otherContext.close();
  // The access token lives on for at most 5 s; then the refresh is refused.
  await expect(page).toHaveURL(/\/token\/login\?ended=/, { timeout: 20_000 });
  await new LoginPage(page, 'token').expectEndedNotice();
});
