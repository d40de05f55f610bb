import { expect } from '@playwright/test';
import { ModePage } from './app';

export class RegisterPage extends ModePage {
  readonly path = 'register';

  async register(username: string, password: string) {
    const form = this.page.getByTestId('register-form');
    await form.getByLabel('Username').fill(username);
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Create account' }).click();
  }

  fieldError(name: 'username' | 'password') {
    return this.page.getByTestId(`error-${name}`);
  }

  async expectRegistered(username: string) {
    await expect(this.page.getByTestId('registered')).toContainText(`Account ${username} created`);
  }
}
