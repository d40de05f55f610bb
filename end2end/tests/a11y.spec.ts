import AxeBuilder from '@axe-core/playwright';
import { test, expect } from './fixtures';
import { hydrated } from './pages/app';
import { signUpAndLogIn } from './pages/flows';

// Every page, in the project's mode and in both languages, checked by axe-core after hydration: no serious or
// critical violation (WCAG 2.1 A and AA rules and axe's best practices).
const LANGUAGES = ['en', 'ko'];
const PAGES = ['', '/login', '/register', '/profile', '/devices', '/settings', '/lab', '/compare', '/jwt'];

test('every page passes axe with no serious or critical violation', async ({ page, mode, username }) => {
  test.setTimeout(180_000);
  await signUpAndLogIn(page, mode, username);
  const found: string[] = [];
  for (const path of PAGES.flatMap((p) => LANGUAGES.map((lang) => `${p}?lang=${lang}`))) {
    await page.goto(`/${mode}${path}`);
    await hydrated(page);
    const results = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
      .analyze();
    for (const v of results.violations) {
      if (v.impact === 'serious' || v.impact === 'critical') {
        const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ');
        found.push(`/${mode}${path}: ${v.id} (${v.impact}) ${v.help} — ${where}`);
      }
    }
  }
  expect(found, found.join('\n')).toEqual([]);

  // The control: the same check on the same page with an image that has no text alternative.
  await page.evaluate(() => {
    const img = document.createElement('img');
    img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
    document.querySelector('main')?.append(img);
  });
  const control = await new AxeBuilder({ page }).withTags(['wcag2a']).analyze();
  expect(control.violations.map((v) => v.id)).toContain('image-alt');
});
