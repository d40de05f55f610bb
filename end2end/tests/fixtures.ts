import { test as base, expect, type Page } from '@playwright/test';

export type Mode = 'session' | 'token';

export type Options = {
  /** The auth mode the project runs every page in. */
  mode: Mode;
};

type Fixtures = {
  /** A fresh username for this test. */
  username: string;
  /** Browser console errors and page errors seen during the test (asserted empty at the end). */
  consoleErrors: string[];
};

export const PASSWORD = 'correct horse battery staple';

let counter = 0;

/** Collects console errors, failed hydration and uncaught exceptions from a page. */
export function watchConsole(page: Page, into: string[]) {
  page.on('console', (msg) => {
    const text = msg.text();
    // The API's refusals (401 not logged in, 403, 409, 422 invalid, 429) are answers the page
    // shows, but Chromium also logs them as failed loads. A 404 or a 5xx is still an error.
    const expectedRefusal = /status of (401|403|409|422|429) /.test(text);
    if (msg.type() === 'error' && !expectedRefusal) into.push(text);
    if (msg.type() === 'warning' && /hydrat/i.test(text)) into.push(text);
  });
  page.on('pageerror', (err) => into.push(`pageerror: ${err.message}`));
}

export const test = base.extend<Options & Fixtures>({
  mode: ['session', { option: true }],
  username: async ({ mode }, use, testInfo) => {
    counter += 1;
    await use(`${mode.slice(0, 3)}${testInfo.workerIndex}x${Date.now() % 1_000_000}x${counter}`);
  },
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      watchConsole(page, errors);
      // Anything the Content-Security-Policy blocks is an error of the test too.
      await page.addInitScript(() =>
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`),
        ),
      );
      await use(errors);
      expect(errors, 'no console errors or hydration warnings').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
