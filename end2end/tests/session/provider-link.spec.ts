import { test, expect } from '../fixtures';
import { signUpAndLogIn } from '../pages/flows';
import { ProfilePage } from '../pages/profile';
import { ProviderPages } from '../pages/provider';

// Linking a provider account from the profile (session mode only: the provider has one `bob`,
// and a second link of him to anyone would rightly be refused).

test('link a provider account from the profile, then sign in with it', async ({ page, browser, username }) => {
  await signUpAndLogIn(page, 'session', username);
  const profile = new ProfilePage(page, 'session');
  await profile.goto();
  const linked = page.getByTestId('linked-accounts');
  await expect(linked).toContainText('None linked.');
  await linked.getByTestId('provider-link').click();
  await new ProviderPages(page).signIn('bob', 'bob-password');
  await expect(page).toHaveURL(/\/session\/profile\?linked=provider$/);
  await expect(page.getByTestId('linked-notice')).toBeVisible();
  await expect(linked.getByTestId('linked-account')).toContainText('bob@example.test');

  // Another browser signing in with bob at the provider is this user, not a new one.
  const other = await browser.newPage();
  await other.goto('/session/login');
  await other.getByTestId('provider-button').click();
  await new ProviderPages(other).signIn('bob', 'bob-password');
  const elsewhere = new ProfilePage(other, 'session');
  await elsewhere.expectHere();
  await elsewhere.expectUser(username);
  await other.close();
});
