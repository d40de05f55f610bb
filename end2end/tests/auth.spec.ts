import { test, expect, PASSWORD } from './fixtures';
import { hydrated } from './pages/app';
import { DevicesPage } from './pages/devices';
import { signUpAndLogIn } from './pages/flows';
import { LoginPage } from './pages/login';
import { ProfilePage } from './pages/profile';
import { RegisterPage } from './pages/register';

test('register, log in, see the profile, log out', async ({ page, mode, username }) => {
  const register = new RegisterPage(page, mode);
  await register.goto();
  await register.register(username, PASSWORD);
  const login = new LoginPage(page, mode);
  await login.expectHere();
  await register.expectRegistered(username);

  await login.login(username, PASSWORD);
  const profile = new ProfilePage(page, mode);
  await profile.expectHere();
  await profile.expectUser(username);
  await expect(profile.authMode).toHaveText(mode === 'session' ? 'session' : 'bearer');
  await expect(profile.header.currentUser).toHaveText(username);
  // Silent refresh exists only in token mode, and so does its counter.
  await expect(page.getByTestId('rotations')).toHaveCount(mode === 'token' ? 1 : 0);

  await profile.header.logout();
  await login.expectHere();
  await expect(page.getByTestId('who')).toContainText('Log in');
  // The profile is closed again.
  await page.goto(profile.url());
  await expect(page).toHaveURL(new RegExp(`/${mode}/login\\?next=/${mode}/profile`));
});

test('registration shows field errors and keeps nothing', async ({ page, mode, username }) => {
  const register = new RegisterPage(page, mode);
  await register.goto();
  await register.register(username, 'short');
  await expect(register.fieldError('password')).toHaveText(/at least 8 characters/);
  await register.expectHere();
});

test('a wrong password gets one generic message', async ({ page, mode, username }) => {
  const register = new RegisterPage(page, mode);
  await register.goto();
  await register.register(username, PASSWORD);
  const login = new LoginPage(page, mode);
  await login.expectHere();
  await login.login(username, 'not the password');
  await expect(login.error).toContainText('Wrong username or password.');
  await login.login('nobody-by-that-name', 'not the password');
  await expect(login.error).toContainText('Wrong username or password.');
});

test('the mode switch keeps the page', async ({ page, mode }) => {
  const other = mode === 'session' ? 'token' : 'session';
  await page.goto(`/${mode}/devices`);
  await hydrated(page);
  await page.getByTestId(`mode-${other}`).click();
  await expect(page).toHaveURL(new RegExp(`/${other}/(devices|login)`));
  await expect(page.getByTestId(`mode-${other}`)).toHaveClass(/active/);
});

test('devices: two browsers, revoke the other, it is sent to login', async ({ page, browser, mode, username }) => {
  await signUpAndLogIn(page, mode, username);
  const login = new LoginPage(page, mode);

  // A second browser (its own cookies and storage) logs in as the same user.
  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  const otherLogin = new LoginPage(other, mode);
  await otherLogin.goto();
  await otherLogin.login(username, PASSWORD);
  const otherProfile = new ProfilePage(other, mode);
  await otherProfile.expectUser(username);

  const devices = new DevicesPage(page, mode);
  await devices.goto();
  await expect(devices.rows).toHaveCount(2);
  await expect(devices.current).toHaveCount(1);
  await devices.revokeFirstOther();
  await expect(devices.rows).toHaveCount(1);
  await expect(devices.current).toHaveCount(1);

  // The other browser's next navigation lands on the login page.
  await other.goto(otherProfile.url());
  await expect(other).toHaveURL(new RegExp(`/${mode}/login`));
  await otherContext.close();

  // And this browser logs out.
  await devices.header.logout();
  await login.expectHere();
});
