import { expect, type Page } from '@playwright/test';

/** The inspector drawer at the bottom of every page. */
export class Inspector {
  constructor(readonly page: Page) {}

  async open() {
    await this.page.getByTestId('inspector-toggle').click();
    await expect(this.page.getByTestId('inspector-requests')).toBeVisible();
  }

  get rows() {
    return this.page.getByTestId('inspector-row');
  }

  /** The newest request that went to `path`. */
  latest(path: string) {
    return this.rows.filter({ hasText: path }).first();
  }

  get storage() {
    return this.page.getByTestId('inspector-storage');
  }

  get server() {
    return this.page.getByTestId('inspector-server');
  }
}
