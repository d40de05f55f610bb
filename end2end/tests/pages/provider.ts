import { expect, type Page } from '@playwright/test';
import { PROVIDER_URL } from '../../playwright.config';

/** The local OpenID provider's own pages (oidc-provider's login and consent screens). */
export class ProviderPages {
  constructor(readonly page: Page) {}

  /** Logs in on the provider's login page, then agrees on its consent page if it asks. */
  async signIn(login: string, password: string) {
    await expect(this.page).toHaveURL(new RegExp(`^${PROVIDER_URL}/interaction/`));
    await this.page.locator('input[name=login]').fill(login);
    await this.page.locator('input[name=password]').fill(password);
    await this.page.getByRole('button', { name: 'Sign-in' }).click();
    await this.consentIfAsked();
  }

  /** Presses "Continue" if the provider shows its consent page. */
  async consentIfAsked() {
    await this.page.waitForLoadState();
    if (this.page.url().startsWith(`${PROVIDER_URL}/interaction/`)) {
      await this.page.getByRole('button', { name: 'Continue' }).click();
    }
  }

  /** Confirms RP-initiated logout on the provider's own page. */
  async confirmLogout() {
    await expect(this.page).toHaveURL(new RegExp(`^${PROVIDER_URL}/session/end`));
    await this.page.getByRole('button', { name: 'Yes, sign me out' }).click();
  }
}
