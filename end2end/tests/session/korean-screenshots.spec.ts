import { test, expect } from '../fixtures';
import { hydrated } from '../pages/app';

// Pictures of the Korean pages (attached to the report, kept in test-results): the text is
// drawn with the Noto CJK fonts scripts/setup.sh installs, not as boxes. Session mode only:
// the token-mode pages look the same.
test('Korean screenshots of home, lab and compare show readable text', async ({ page, mode }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  for (const path of ['', '/lab', '/compare']) {
    await page.goto(`/${mode}${path}?lang=ko`);
    await hydrated(page);
    await expect(page.locator('main h1').first()).toHaveText(/[\uAC00-\uD7A3]/);
    await page.evaluate(() => document.fonts.ready);
    const name = `ko-${path.replace('/', '') || 'home'}.png`;
    await page.screenshot({ path: testInfo.outputPath(name), fullPage: false });
    await testInfo.attach(name, { path: testInfo.outputPath(name), contentType: 'image/png' });
  }
});
