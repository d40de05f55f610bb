import { test, expect } from './fixtures';
import { BASE_URL, NO_LAB_URL } from '../playwright.config';
import { signUpAndLogIn } from './pages/flows';

test('every page is served with a nonce CSP, and the app runs under it', async ({ page, mode, username }) => {
  const response = await page.goto(`/${mode}/login`);
  const headers = response!.headers();
  const csp = headers['content-security-policy'];
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src [^;]*'nonce-[A-Za-z0-9+/=_-]+'/);
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('same-origin');
  expect(headers['cache-control']).toContain('no-store');
  // Hydration, login, the profile and a state-changing call all run: the fixture fails the
  // test on any CSP violation or console error along the way.
  const profile = await signUpAndLogIn(page, mode, username);
  await profile.expectHere();
  await profile.expectUser(username);
});

test('the lab window does not exist on a server without the lab', async ({ page }) => {
  // Through the browser's own request context (a navigation to a 404 would be logged as a
  // console error, which the fixture rightly fails on).
  const url = `${NO_LAB_URL}/lab-window?experiment=xss&opener=${encodeURIComponent(NO_LAB_URL)}`;
  const refused = await page.request.get(url);
  expect(refused.status()).toBe(404);
  expect(await refused.text()).not.toContain('lab-window-log');
  // The lab server has it.
  const served = await page.request.get('/lab-window');
  expect(served.status()).toBe(200);
});

test('a lab window opened by another site refuses to run or report', async ({ page }) => {
  // The window on 127.0.0.1 pairs only with http://localhost:<port>; a look-alike opener that
  // only starts with it is someone else.
  const port = new URL(BASE_URL).port;
  const forged = `http://localhost:${port}@evil.example`;
  await page.goto(`/lab-window?experiment=xss&opener=${encodeURIComponent(forged)}`);
  await expect(page.getByTestId('lab-window-done')).toHaveText(/Failed: A lab window reports only/);
  await expect(page.getByTestId('lab-window-log').locator('li')).toHaveCount(0);
});

test('a lab window leaves a login it did not make alone', async ({ page, username }) => {
  await signUpAndLogIn(page, 'session', username);
  const own = new URL(page.url()).origin;
  const paired = own.includes('127.0.0.1') ? own.replace('127.0.0.1', 'localhost') : own.replace('localhost', '127.0.0.1');
  // Opened on the app's own origin as if by the paired lab page: the visitor's login is there.
  await page.goto(`/lab-window?experiment=xss&opener=${encodeURIComponent(paired)}`);
  await expect(page.getByTestId('lab-window-done')).toHaveText(/login the lab did not make/);
  // And it is still there.
  await page.goto('/session/profile');
  await expect(page.getByTestId('profile-username')).toHaveText(username);
});
