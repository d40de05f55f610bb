import { test, expect, PASSWORD } from './fixtures';
import type { Page } from '@playwright/test';
import { hydrated } from './pages/app';

// The whole flow with the keyboard alone: Tab to a control, type, Enter or Space. No clicks
// and no `fill` on the page under test (the second device is only there to be revoked).

/** Presses Tab until the focused element matches `selector`; fails after `max` presses. */
async function tabTo(page: Page, selector: string, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) {
      // Whatever has focus shows it.
      const outline = await page.evaluate(() => {
        const style = getComputedStyle(document.activeElement as Element);
        return `${style.outlineStyle} ${style.outlineWidth}`;
      });
      expect(outline, `focus on ${selector} is visible`).not.toMatch(/^none|^\S+ 0px$/);
      return;
    }
  }
  throw new Error(`Tab never reached ${selector}`);
}

test('register, log in, switch mode, run an experiment, revoke a device: keyboard only', async ({
  page,
  browser,
  mode,
  username,
}) => {
  test.setTimeout(120_000);
  const other = mode === 'session' ? 'token' : 'session';

  await page.goto(`/${mode}/register`);
  await hydrated(page);
  await tabTo(page, '[data-testid=register-form] input[name=username]');
  await page.keyboard.type(username);
  await tabTo(page, '[data-testid=register-form] input[name=password]');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('registered')).toContainText(`Account ${username} created`);

  await tabTo(page, '[data-testid=login-form] input[name=username]');
  await page.keyboard.type(username);
  await tabTo(page, '[data-testid=login-form] input[name=password]');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/${mode}/profile`));
  await expect(page.getByTestId('profile-username')).toHaveText(username);

  // Switch mode and back, from the header.
  await tabTo(page, `[data-testid=mode-${other}]`);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/${other}/`));
  await hydrated(page);
  await tabTo(page, `[data-testid=mode-${mode}]`);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/${mode}/`));

  // Run an experiment from the lab, reached by the header's link.
  await hydrated(page);
  await tabTo(page, 'header a[href$="/lab"]');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/${mode}/lab`));
  await hydrated(page);
  await tabTo(page, '[data-testid=experiment-no-credential] button[data-testid=run]', 120);
  await page.keyboard.press('Space');
  await expect(
    page.getByTestId('experiment-no-credential').getByTestId('verdict'),
  ).toHaveAttribute('data-outcome', 'confirmed', { timeout: 60_000 });

  // A second device logs in; this one revokes it from the devices page.
  const otherContext = await browser.newContext();
  const second = await otherContext.newPage();
  await second.goto(`/${mode}/login`);
  await hydrated(second);
  await second.getByTestId('login-form').getByLabel('Username').fill(username);
  await second.getByTestId('login-form').getByLabel('Password').fill(PASSWORD);
  await second.getByTestId('login-form').getByRole('button', { name: 'Log in' }).click();
  await expect(second).toHaveURL(new RegExp(`/${mode}/profile`));

  await page.goto(`/${mode}/devices`);
  await hydrated(page);
  await expect(page.getByTestId('devices').locator('tbody tr')).toHaveCount(2);
  await tabTo(page, '[data-testid=device-other] [data-testid=revoke]');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('devices').locator('tbody tr')).toHaveCount(1);
  await otherContext.close();
});
