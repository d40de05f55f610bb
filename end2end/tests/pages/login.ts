import { expect } from '@playwright/test';
import { ModePage } from './app';

export class LoginPage extends ModePage {
  readonly path = 'login';

  async login(username: string, password: string) {
    const form = this.page.getByTestId('login-form');
    await form.getByLabel('Username').fill(username);
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Log in' }).click();
  }

  get error() {
    return this.page.getByTestId('error');
  }

  async expectEndedNotice() {
    await expect(this.page.getByTestId('ended')).toBeVisible();
  }
}
