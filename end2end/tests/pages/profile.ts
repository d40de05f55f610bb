import { expect } from '@playwright/test';
import { ModePage } from './app';

export class ProfilePage extends ModePage {
  readonly path = 'profile';

  get username() {
    return this.page.getByTestId('profile-username');
  }

  get authMode() {
    return this.page.getByTestId('auth-mode');
  }

  async counts() {
    const read = async (id: string) => Number(await this.page.getByTestId(id).textContent());
    return {
      ok: await read('calls-ok'),
      failed: await read('calls-failed'),
      rotations: await read('rotations'),
    };
  }

  async expectUser(username: string) {
    await expect(this.username).toHaveText(username);
  }
}
