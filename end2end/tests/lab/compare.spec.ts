import { test, expect } from '../fixtures';
import { ComparePage } from '../pages/compare';

test('compare: both panes act, and a stolen credential fares differently after logout', async ({ page }) => {
  const compare = new ComparePage(page, 'session');
  await compare.goto();
  await compare.both('register');
  await compare.expectStatuses('register', '201', '201');

  await compare.both('login');
  await expect(compare.summary('session', 'login')).toHaveText('session cookie set');
  await expect(compare.summary('bearer', 'login')).toHaveText('access + refresh token kept');

  await compare.both('me');
  await compare.expectStatuses('me', '200', '200');

  await compare.both('write');
  await compare.expectStatuses('write', '201', '201');

  await compare.both('steal');
  await expect(compare.summary('session', 'steal')).toContainText('copied Cookie');
  await expect(compare.summary('bearer', 'steal')).toContainText('copied Authorization');
  const cookieBytes = Number((await compare.summary('session', 'steal').textContent())!.match(/(\d+) bytes/)![1]);
  const bearerBytes = Number((await compare.summary('bearer', 'steal').textContent())!.match(/(\d+) bytes/)![1]);
  expect(bearerBytes).toBeGreaterThan(3 * cookieBytes);

  await compare.both('replay');
  await compare.expectStatuses('replay', '200', '200');

  await compare.both('logout');
  await compare.expectStatuses('logout', '204', '204');

  // The claim of the whole comparison: after logout the stolen cookie is dead, the stolen token is not.
  await compare.both('replay');
  await compare.expectStatuses('replay', '401', '200');
});

test('compare: one pane acts alone', async ({ page }) => {
  const compare = new ComparePage(page, 'token');
  await compare.goto();
  await page.getByTestId('cmp-bearer-register').click();
  await expect(compare.status('bearer', 'register')).toHaveText('201');
  await expect(page.getByTestId('cmp-session-register-status')).toHaveCount(0);
});
