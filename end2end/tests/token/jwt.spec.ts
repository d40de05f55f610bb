import { test, expect } from '../fixtures';
import { hydrated } from '../pages/app';
import { signUpAndLogIn } from '../pages/flows';

test('the JWT decoder takes the current token apart and the server refuses an edited one', async ({ page, username }) => {
  await signUpAndLogIn(page, 'token', username);

  // Client-side navigation keeps the in-memory token.
  await page.getByRole('link', { name: 'JWT' }).click();
  await expect(page).toHaveURL(/\/token\/jwt$/);
  await expect(page.getByTestId('jwt-input')).toHaveValue(/^eyJ/);
  await expect(page.getByTestId('jwt-header')).toContainText('"typ": "at+jwt"');
  await expect(page.getByTestId('jwt-claims')).toContainText(username);
  await expect(page.getByTestId('jwt-countdown')).toHaveText(/Expires in \d+ s\.|Expired/);

  await page.getByTestId('jwt-check-button').click();
  await expect(page.getByTestId('jwt-check')).toContainText('200 — Valid');

  const edited = (await page.getByTestId('jwt-payload-edit').inputValue()).replace(`"${username}"`, '"admin"');
  await page.getByTestId('jwt-payload-edit').fill(edited);
  await page.getByTestId('jwt-send').click();
  await expect(page.getByTestId('jwt-send-result')).toContainText('401');
  await expect(page.getByTestId('jwt-send-result')).toContainText('error="invalid_token"');
});

test('a pasted token that is not a JWT gets a plain explanation', async ({ page }) => {
  await page.goto('/token/jwt');
  await hydrated(page);
  await page.getByTestId('jwt-input').fill('not-a-token');
  await expect(page.getByTestId('jwt-error')).toHaveText('A JWT has three parts separated by dots.');
});
