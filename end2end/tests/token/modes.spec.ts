import { test, expect } from '../fixtures';
import { signUpAndLogIn } from '../pages/flows';
import { Inspector } from '../pages/inspector';
import { LoginPage } from '../pages/login';
import { ProfilePage } from '../pages/profile';

test('a session login does not log token mode in: token-mode calls carry no cookie', async ({ page, username }) => {
  // Logged in by cookie session in this browser…
  await signUpAndLogIn(page, 'session', username);

  // …token mode still sees nobody: its calls leave the session cookie behind.
  await page.goto('/token/profile');
  await new LoginPage(page, 'token').expectHere();
  await expect(page.getByTestId('current-user')).toHaveCount(0);
  const inspector = new Inspector(page);
  await inspector.open();
  const me = inspector.latest('/api/fn/me');
  await expect(me.getByTestId('inspector-status')).toHaveText('401');
  await expect(me.getByTestId('inspector-credential')).not.toContainText('Cookie');

  // The session itself was left alone.
  const profile = new ProfilePage(page, 'session');
  await profile.goto();
  await profile.expectUser(username);
});
