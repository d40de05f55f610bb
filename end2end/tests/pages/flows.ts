import type { Page } from '@playwright/test';
import { PASSWORD, type Mode } from '../fixtures';
import { LoginPage } from './login';
import { ProfilePage } from './profile';
import { RegisterPage } from './register';

/** Registers `username` and logs in through the UI; ends on the profile page. */
export async function signUpAndLogIn(page: Page, mode: Mode, username: string): Promise<ProfilePage> {
  const register = new RegisterPage(page, mode);
  await register.goto();
  await register.register(username, PASSWORD);
  const login = new LoginPage(page, mode);
  await login.expectHere();
  await login.login(username, PASSWORD);
  const profile = new ProfilePage(page, mode);
  await profile.expectUser(username);
  return profile;
}
