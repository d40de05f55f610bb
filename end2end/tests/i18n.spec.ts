import { test, expect } from './fixtures';
import { hydrated } from './pages/app';
import { signUpAndLogIn } from './pages/flows';

// Korean and English. The language comes from `?lang=`, then the `lang` cookie, then the
// browser's Accept-Language; the server renders it, and the switch in the header changes it.

const HANGUL = /[\uAC00-\uD7A3]/;
const PAGES = ['', '/login', '/register', '/profile', '/devices', '/settings', '/lab', '/compare', '/jwt'];

test.describe('a browser that asks for Korean', () => {
  test.use({ locale: 'ko-KR', javaScriptEnabled: false });

  test('gets Korean HTML from the server, before any script runs', async ({ page, mode }) => {
    const res = await page.goto(`/${mode}/login`);
    expect(res?.status()).toBe(200);
    await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
    await expect(page.locator('header nav')).toContainText('기기');
    await expect(page.locator('h1')).toHaveText(HANGUL);
    await expect(page.locator('footer')).toContainText('쿠키 세션과 Bearer 토큰');
    const html = await res!.text();
    expect(html).toMatch(/<h1[^>]*>[^<]*[\uAC00-\uD7A3]/);
  });
});

test('the header switches the language, and the choice follows the visitor', async ({ page, mode }) => {
  await page.goto(`/${mode}/login`);
  await hydrated(page);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  const englishHeading = await page.locator('h1').innerText();

  await page.getByTestId('lang-ko').click();
  await expect(page).toHaveURL(new RegExp(`/${mode}/login\\?lang=ko$`));
  await hydrated(page);
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  await expect(page.locator('h1')).not.toHaveText(englishHeading);
  await expect(page.locator('h1')).toHaveText(HANGUL);
  await expect(page.getByTestId('lang-ko')).toHaveAttribute('aria-current', 'true');
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === 'lang')).toMatchObject({ value: 'ko', sameSite: 'Lax', httpOnly: false });

  // Another page, reached through the header, stays Korean; so does the other mode.
  await page.locator('header nav a').nth(3).click();
  await expect(page).toHaveURL(new RegExp(`/${mode}/compare`));
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  await page.getByTestId(`mode-${mode === 'session' ? 'token' : 'session'}`).click();
  await hydrated(page);
  await expect(page.locator('header nav')).toContainText('기기');

  await page.getByTestId('lang-en').click();
  await hydrated(page);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.locator('header nav')).toContainText('Devices');
});

test('every page has its Korean text, rendered and hydrated', async ({ page, mode, username }) => {
  test.setTimeout(120_000);
  await signUpAndLogIn(page, mode, username);
  for (const path of PAGES) {
    await page.goto(`/${mode}${path}?lang=en`);
    await hydrated(page);
    const english = (await page.locator('main').innerText()).trim();

    await page.goto(`/${mode}${path}?lang=ko`);
    await hydrated(page);
    await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
    const heading = page.locator('main h1').first();
    await expect(heading, `/${mode}${path}`).toHaveText(HANGUL);
    const korean = (await page.locator('main').innerText()).trim();
    expect(korean, `/${mode}${path} differs from English`).not.toEqual(english);
    // Mostly Korean: more Hangul syllables than English words in the page's own text.
    const syllables = (korean.match(/[\uAC00-\uD7A3]/g) ?? []).length;
    expect(syllables, `/${mode}${path}: ${korean.slice(0, 300)}`).toBeGreaterThan(20);
  }
});
