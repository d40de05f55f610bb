import { expect } from '@playwright/test';
import { ModePage } from './app';

export type Policy = 'hardened' | 'memory' | 'session_storage' | 'local_storage';

export class SettingsPage extends ModePage {
  readonly path = 'settings';

  async choose(policy: Policy) {
    await this.page.getByTestId(`policy-${policy}`).check();
    await expect(this.page.getByTestId(`policy-${policy}`)).toBeChecked();
  }
}
