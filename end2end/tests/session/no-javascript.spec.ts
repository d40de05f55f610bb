import { test, expect, PASSWORD } from '../fixtures';
import { LoginPage } from '../pages/login';
import { ProfilePage } from '../pages/profile';
import { ProviderPages } from '../pages/provider';
import { RegisterPage } from '../pages/register';

test.use({ javaScriptEnabled: false });

test('without JavaScript: register, log in and see the profile rendered by the server', async ({ page, username }) => {
  const register = new RegisterPage(page, 'session');
  await page.goto(register.url());
  await register.register(username, PASSWORD);
  const login = new LoginPage(page, 'session');
  await login.expectHere();
  await register.expectRegistered(username);

  await login.login(username, PASSWORD);
  const profile = new ProfilePage(page, 'session');
  await profile.expectHere();
  await profile.expectUser(username);

  // A reload is another plain server render of the logged-in page.
  await page.reload();
  await profile.expectUser(username);
});

test('without JavaScript a wrong password comes back to the form with the message', async ({ page, username }) => {
  const register = new RegisterPage(page, 'session');
  await page.goto(register.url());
  await register.register(username, PASSWORD);
  const login = new LoginPage(page, 'session');
  await login.login(username, 'not the password');
  await login.expectHere();
  await expect(login.error).toContainText('Wrong username or password.');
});

test('without JavaScript: sign in at the provider and land on the server-rendered profile', async ({ page }) => {
  const login = new LoginPage(page, 'session');
  await page.goto(login.url());
  // A plain form post: the server answers with the redirect to the provider itself.
  await page.getByTestId('provider-button').click();
  await new ProviderPages(page).signIn('alice', 'alice-password');
  const profile = new ProfilePage(page, 'session');
  await profile.expectHere();
  await profile.expectUser('alice');
});
