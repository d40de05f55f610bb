import { test, expect } from './fixtures';
import { hydrated } from './pages/app';
import { DevicesPage } from './pages/devices';
import { LoginPage } from './pages/login';
import { ProfilePage } from './pages/profile';
import { ProviderPages } from './pages/provider';
import { PROVIDER_URL } from '../playwright.config';

// "Sign in with …" against the real local provider, in the project's mode: the provider's own
// login page, then this app's own session or token pair; logout here, then at the provider.

test('sign in at the provider, land on the profile, log out here and there', async ({ page, mode }) => {
  const login = new LoginPage(page, mode);
  await login.goto();
  const section = page.getByTestId('provider-signin');
  await expect(section).toContainText('the provider keeps its own sign-in');
  await section.getByTestId('provider-button').click();
  await expect(page).toHaveURL(new RegExp(`^${PROVIDER_URL}/interaction/`));
  await new ProviderPages(page).signIn('alice', 'alice-password');

  const profile = new ProfilePage(page, mode);
  await profile.expectHere();
  await hydrated(page);
  await profile.expectUser('alice');
  await expect(profile.authMode).toHaveText(mode === 'session' ? 'session' : 'bearer');
  // Nothing secret was left in the address bar on the way.
  expect(page.url()).not.toMatch(/code=|state=|access_token|id_token|refresh_token|#/);
  if (mode === 'token') {
    // The page holds this app's tokens, never the provider's.
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    expect(stored).not.toContain('id_token');
  }

  const devices = new DevicesPage(page, mode);
  await devices.goto();
  await expect(devices.current.getByTestId('device-login')).toHaveText('identity provider');

  // Logging out here ends this app's login only; the provider still knows alice.
  await devices.header.logout();
  await login.expectHere();
  await hydrated(page);
  await page.getByTestId('provider-button').click();
  await profile.expectHere();
  await profile.expectUser('alice');

  // RP-initiated logout ends the provider's session too: the next sign-in asks again.
  await profile.header.logout();
  await login.expectHere();
  await page.getByTestId('provider-logout').click();
  await new ProviderPages(page).confirmLogout();
  await login.expectHere();
  await hydrated(page);
  await page.getByTestId('provider-button').click();
  await expect(page).toHaveURL(new RegExp(`^${PROVIDER_URL}/interaction/`));
  await expect(page.locator('input[name=password]')).toBeVisible();
});

test('a cancelled sign-in shows a clear page with 403', async ({ page, mode }) => {
  const login = new LoginPage(page, mode);
  await login.goto();
  await page.getByTestId('provider-button').click();
  await expect(page).toHaveURL(new RegExp(`^${PROVIDER_URL}/interaction/`));
  const back = page.waitForResponse((r) => r.url().includes('/auth/oidc/callback'));
  await page.getByRole('link', { name: /Cancel/i }).click();
  expect((await back).status()).toBe(403);
  await expect(page.getByTestId('oidc-error')).toHaveAttribute('data-code', 'access_denied');
  await expect(page.getByTestId('oidc-error')).toContainText('cancelled at the identity provider');
  await page.getByRole('link', { name: `Back to log in (${mode} mode)` }).click();
  await login.expectHere();
});
