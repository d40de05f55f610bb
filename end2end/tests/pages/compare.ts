import { expect, type Page } from '@playwright/test';
import { hydrated } from './app';
import type { Mode } from '../fixtures';

export type Pane = 'session' | 'bearer';
export type Action = 'register' | 'login' | 'me' | 'write' | 'steal' | 'replay' | 'logout' | 'revoke_all';

/** `/{mode}/compare`: two clients, one row per action. */
export class ComparePage {
  constructor(
    readonly page: Page,
    readonly mode: Mode,
  ) {}

  async goto() {
    await this.page.goto(`/${this.mode}/compare`);
    await hydrated(this.page);
    await expect(this.page.getByTestId('cmp-both-register')).toBeEnabled();
  }

  status(pane: Pane, action: Action) {
    return this.page.getByTestId(`cmp-${pane}-${action}-status`);
  }

  summary(pane: Pane, action: Action) {
    return this.page.getByTestId(`cmp-${pane}-${action}-summary`);
  }

  /** Expects the statuses the two panes got for `action`. */
  async expectStatuses(action: Action, session: string, bearer: string) {
    await expect(this.status('session', action)).toHaveText(session);
    await expect(this.status('bearer', action)).toHaveText(bearer);
  }

  /** Runs a row in both panes and waits until both have answered. */
  async both(action: Action) {
    const button = this.page.getByTestId(`cmp-both-${action}`);
    await button.click();
    // The board is busy (buttons disabled) until both panes have answered.
    await expect(button).toBeEnabled({ timeout: 30_000 });
    await expect(this.summary('bearer', action)).toBeVisible();
  }
}
