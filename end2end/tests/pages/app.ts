import { expect, type Page } from '@playwright/test';
import type { Mode } from '../fixtures';

/** Waits until the WASM client has taken over the server-rendered page. */
export async function hydrated(page: Page) {
  await page.waitForFunction(() => (window as any).__authlab_hydrated === true);
}

/** The header every page shares. */
export class Header {
  constructor(readonly page: Page) {}

  get currentUser() {
    return this.page.getByTestId('current-user');
  }

  async switchTo(mode: Mode) {
    await this.page.getByTestId(`mode-${mode}`).click();
  }

  async logout() {
    await this.page.getByTestId('logout').click();
  }
}

/** A page of one mode: `/{mode}/{path}`. */
export abstract class ModePage {
  readonly header: Header;

  constructor(
    readonly page: Page,
    readonly mode: Mode,
  ) {
    this.header = new Header(page);
  }

  abstract readonly path: string;

  url(): string {
    return this.path ? `/${this.mode}/${this.path}` : `/${this.mode}`;
  }

  async goto() {
    await this.page.goto(this.url());
    await hydrated(this.page);
  }

  async expectHere() {
    await expect(this.page).toHaveURL(new RegExp(`/${this.mode}/${this.path}(\\?|$)`));
  }
}
