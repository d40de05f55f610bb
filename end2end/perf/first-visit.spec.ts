import { test, expect, type APIRequestContext, type Browser } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

// For each page and mode, in a fresh browser context (empty cache): the WASM and JS the page
// downloads (as sent, and what gzip and brotli would make of it), the time to first contentful
// paint, and the time until the app has hydrated. Three runs each; medians. The pages behind a
// login (profile, devices, settings) are measured right after logging in on the login page,
// which lands on the profile: only what is new to that tab is counted.

const RUNS = Number(process.env.FIRST_VISIT_RUNS ?? 3);
// What a first visit of home and login may transfer (KiB of WASM + JS, brotli). The run fails
// above the budget: the ceiling today (FIRST_VISIT_BUDGET_KIB overrides), lowered as the first
// download shrinks. The target is the goal the report measures against; it is not met yet.
const BUDGET_KIB = Number(process.env.FIRST_VISIT_BUDGET_KIB ?? 310);
const TARGET_KIB = 200;
// The WASM's build profile and the server's (a debug server can serve a release site).
const PROFILE = process.env.FIRST_VISIT_PROFILE ?? 'release';
const SERVER = process.env.FIRST_VISIT_SERVER ?? PROFILE;
const PASSWORD = 'correct horse battery staple';
type Row = { page: string; mode: string; raw: number; sent: number; gzip: number; brotli: number; fcp: number; hydrated: number };

type Visit = { raw: number; sent: number; gzip: number; brotli: number; fcp: number; hydrated: number };

// Compressing a multi-megabyte file at the top levels takes seconds: once per distinct file.
const compressed = new Map<string, { gzip: number; brotli: number }>();
function sizesOf(url: string, body: Buffer) {
  const key = `${url}#${body.length}`;
  let sizes = compressed.get(key);
  if (!sizes) {
    sizes = {
      gzip: gzipSync(body, { level: 9 }).length,
      brotli: brotliCompressSync(body, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
      }).length,
    };
    compressed.set(key, sizes);
  }
  return sizes;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function visit(browser: Browser, request: APIRequestContext, mode: string, path: string, login?: string): Promise<Visit> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    const w = window as any;
    let value = false;
    Object.defineProperty(w, '__authlab_hydrated', {
      configurable: true,
      get: () => value,
      set: (v) => {
        value = v;
        if (v && w.__hydratedAt === undefined) w.__hydratedAt = performance.now();
      },
    });
  });
  if (login) {
    await page.goto(`/${mode}/login`);
    await page.waitForFunction(() => (window as any).__authlab_hydrated === true);
    const form = page.getByTestId('login-form');
    await form.getByLabel('Username').fill(login);
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(new RegExp(`/${mode}/profile`));
  }
  // What the page fetched: each WASM/JS URL and the bytes that crossed the wire for it (-1,
  // counted as 0, when it came from the cache). The files themselves are fetched again below,
  // uncompressed: the browser streams WASM into the compiler, so its body is not always
  // readable from the response event.
  const fetched = new Map<string, Promise<number>>();
  page.on('requestfinished', (req) => {
    const url = req.url().split('?')[0];
    if (!/\.(wasm|js)$/.test(url)) return;
    fetched.set(url, req.sizes().then((s) => Math.max(0, s.responseBodySize)).catch(() => 0));
  });
  await page.goto(`/${mode}${path}`);
  await page.waitForFunction(() => (window as any).__authlab_hydrated === true);
  await page.waitForLoadState('networkidle');
  const times = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    hydrated: (window as any).__hydratedAt as number,
  }));
  await context.close();
  let raw = 0, sent = 0, gzip = 0, brotli = 0;
  for (const [url, bytesSent] of fetched) {
    const wire = await bytesSent;
    // After logging in, what the login page already downloaded (cached, nothing sent) is not
    // the page's own: only what is new to the tab counts.
    if (login && wire === 0) continue;
    const res = await request.get(url, { headers: { 'accept-encoding': 'identity' } });
    expect(res.status(), url).toBe(200);
    const body = await res.body();
    const sizes = sizesOf(url, body);
    raw += body.length;
    sent += wire;
    gzip += sizes.gzip;
    brotli += sizes.brotli;
  }
  return {
    raw,
    sent,
    gzip,
    brotli,
    ...times,
  };
}

test('first visit: bytes and times per page', async ({ browser, request }) => {
  const user = `fv${Date.now() % 1_000_000}`;
  const res = await request.post('/api/auth/register', { data: { username: user, password: PASSWORD } });
  expect(res.status()).toBe(201);
  const rows: Row[] = [];
  for (const mode of ['session', 'token']) {
    for (const [name, path, login] of [
      ['home', '', undefined],
      ['login', '/login', undefined],
      ['register', '/register', undefined],
      ['lab', '/lab', undefined],
      ['compare', '/compare', undefined],
      ['jwt', '/jwt', undefined],
      ['profile', '/profile', user],
      ['devices', '/devices', user],
      ['settings', '/settings', user],
    ] as const) {
      const runs: Visit[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await visit(browser, request, mode, path, login));
      const m = (k: keyof Visit) => median(runs.map((r) => r[k]));
      rows.push({ page: name, mode, raw: m('raw'), sent: m('sent'), gzip: m('gzip'), brotli: m('brotli'), fcp: m('fcp'), hydrated: m('hydrated') });
    }
  }
  const kb = (n: number) => (n / 1024).toFixed(1);
  const lines = [
    `# First visit (${PROFILE} WASM, ${SERVER} server, ${new Date().toISOString()})`,
    '',
    `WASM + JS per page, fresh browser context, median of ${RUNS}; gzip -9 and brotli -11 computed on the downloaded files.`,
    '',
    '| page | mode | raw KiB | sent KiB | gzip KiB | brotli KiB | first contentful paint ms | hydrated ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.page} | ${r.mode} | ${kb(r.raw)} | ${kb(r.sent)} | ${kb(r.gzip)} | ${kb(r.brotli)} | ${r.fcp.toFixed(0)} | ${r.hydrated.toFixed(0)} |`),
  ];
  // The size budget: what a first visit of home and login transfers, brotli, WASM + JS. A
  // release build only — a debug build's WASM is unoptimised and says nothing about it.
  const release = PROFILE === 'release';
  const firstPages = rows.filter((r) => ['home', 'login'].includes(r.page));
  const above = (kib: number) => firstPages.filter((r) => r.brotli > kib * 1024);
  const verdict = (kib: number) => {
    const out = above(kib);
    return out.length === 0 ? 'met' : `over: ${out.map((r) => `${r.mode} ${r.page} ${kb(r.brotli)} KiB`).join(', ')}`;
  };
  const over = above(BUDGET_KIB);
  lines.push(
    '',
    ...(release
      ? [
          `Budget: home and login ≤ ${BUDGET_KIB} KiB brotli — ${verdict(BUDGET_KIB)}.`,
          `Target: home and login ≤ ${TARGET_KIB} KiB brotli — ${verdict(TARGET_KIB)}.`,
        ]
      : [`Budget (${BUDGET_KIB} KiB brotli for home and login) not checked: a debug build.`]),
  );
  const text = lines.join('\n') + '\n';
  console.log(text);
  const dir = resolve(__dirname, '../../bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `first-visit-${Date.now()}.md`), text);
  if (release) expect(over.map((r) => `${r.mode} ${r.page}: ${kb(r.brotli)} KiB`), `over ${BUDGET_KIB} KiB`).toEqual([]);
  // Every page downloaded its app and hydrated.
  for (const r of rows) {
    // The profile is visited right after the login page, whose files it shares (cached).
    if (r.page !== 'profile') expect(r.raw, `${r.mode} ${r.page}`).toBeGreaterThan(0);
    expect(r.hydrated, `${r.mode} ${r.page}`).toBeGreaterThan(0);
  }
});

// A returning visitor: the build names its files by their content's hash and the server
// sends them `immutable`, so a second page load in the same browser takes every WASM and JS
// file from the cache without asking the server (no 304 round trip). Counted with Chromium's
// own network events: bytes received from the network per file (0 for a cache hit).
test('returning visit: the build files come from the cache, unasked', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map<string, string>();
  const received = new Map<string, number>();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) => {
    const url = urls.get(e.requestId);
    if (url && /\/pkg\/.*\.(wasm|js)$/.test(url)) received.set(url, (received.get(url) ?? 0) + e.encodedDataLength);
  });
  const load = async (path: string) => {
    received.clear();
    await page.goto(path);
    await page.waitForFunction(() => (window as any).__authlab_hydrated === true);
    await page.waitForLoadState('networkidle');
    return new Map(received);
  };
  const first = await load('/session/login');
  const files = [...first.keys()];
  expect(files.length, 'files of the first visit').toBeGreaterThan(0);
  for (const url of files) expect(url, 'a hashed name').toMatch(/\.[A-Za-z0-9_-]{22}\.(wasm|js)$/);
  const again = await load('/session/login');
  const fromNetwork = [...again].filter(([, bytes]) => bytes > 0).map(([url]) => url);
  console.log(
    `Returning visit: ${files.length} files, ${(sum(first) / 1024).toFixed(1)} KiB received on the first load, ` +
      `${(sum(again) / 1024).toFixed(1)} KiB on the second.`,
  );
  expect(fromNetwork, 'files fetched again on the second load').toEqual([]);
  await context.close();
});

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
