import { expect, type Locator, type Page } from '@playwright/test';
import { hydrated } from './app';
import type { Mode } from '../fixtures';

export type Outcome = 'confirmed' | 'partly' | 'refuted';

/** `/{mode}/lab`: the experiment cards. */
export class LabPage {
  constructor(
    readonly page: Page,
    readonly mode: Mode = 'session',
  ) {}

  async goto() {
    await this.page.goto(`/${this.mode}/lab`);
    await hydrated(this.page);
  }

  card(id: string): Locator {
    return this.page.getByTestId(`experiment-${id}`);
  }

  /** Runs an experiment and waits for its verdict. */
  async run(id: string, timeout = 90_000) {
    const card = this.card(id);
    await card.getByTestId('run').click();
    await expect(card.getByTestId('verdict')).toBeVisible({ timeout });
    return new ExperimentResult(card);
  }
}

/** Opens the lab and runs one experiment to its verdict. */
export async function runExperiment(page: Page, id: string): Promise<ExperimentResult> {
  const lab = new LabPage(page);
  await lab.goto();
  return lab.run(id);
}

export class ExperimentResult {
  constructor(readonly card: Locator) {}

  async expectOutcome(outcome: Outcome) {
    await expect(this.card.getByTestId('verdict')).toHaveAttribute('data-outcome', outcome);
  }

  fact(key: string): Locator {
    return this.card.getByTestId(`fact-${key}`);
  }

  async number(key: string): Promise<number> {
    const text = (await this.fact(key).textContent()) ?? '';
    return Number.parseFloat(text);
  }

  get charts(): Locator {
    return this.card.getByTestId('chart');
  }

  /** The one-line "what to look at" under each chart. */
  get chartNotes(): Locator {
    return this.charts.getByTestId('chart-note');
  }

  get verdictText(): Locator {
    return this.card.getByTestId('verdict-text');
  }
}
