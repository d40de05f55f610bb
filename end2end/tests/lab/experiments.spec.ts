import { test, expect } from '../fixtures';
import { LabPage, runExperiment } from '../pages/lab';

// Every experiment runs from the UI against the e2e server and must reach its verdict.
// Browser experiments open a lab window (a pop-up on the other host name).

test.describe.configure({ timeout: 120_000 });

test('the lab lists every experiment, and /lab leads there', async ({ page }) => {
  await page.goto('/lab');
  await expect(page).toHaveURL(/\/session\/lab$/);
  const lab = new LabPage(page);
  for (const id of [
    'no-credential', 'credential-contents', 'stolen-cookie', 'stolen-token', 'forgery', 'csrf', 'xss',
    'refresh-reuse', 'server-state', 'wire-bytes', 'sliding-session', 'single-session',
    'opaque-token', 'scoped-token', 'leaked-secret', 'shared-store', 'api-server',
    'logout-everywhere', 'oauth',
  ]) {
    await expect(lab.card(id)).toBeVisible();
    await expect(lab.card(id).getByRole('button', { name: 'Run' })).toBeVisible();
  }
  await expect(page.getByTestId('lab-switches')).toBeVisible();
});

test('the lab is grouped under three questions, with a table of contents', async ({ page }) => {
  await page.goto('/session/lab');
  const groups: Record<string, string[]> = {
    'what-travels': ['no-credential', 'credential-contents', 'wire-bytes', 'scoped-token'],
    'what-the-server-keeps': [
      'server-state', 'sliding-session', 'single-session', 'opaque-token', 'shared-store',
      'api-server', 'logout-everywhere',
    ],
    'what-an-attacker-can-do': [
      'stolen-cookie', 'stolen-token', 'forgery', 'csrf', 'xss', 'refresh-reuse', 'leaked-secret',
      'oauth',
    ],
  };
  const headings = page.getByTestId('experiments').locator('section > h2');
  await expect(headings).toHaveText(['What travels', 'What the server keeps', 'What an attacker can do']);
  for (const [group, ids] of Object.entries(groups)) {
    for (const id of ids) {
      await expect(page.getByTestId(`group-${group}`).getByTestId(`experiment-${id}`)).toBeVisible();
    }
  }
  // The contents link to every section and every card, and following one lands there.
  const contents = page.getByTestId('lab-contents');
  await expect(contents.getByRole('link')).toHaveCount(3 + 19);
  await contents.getByRole('link', { name: 'What an attacker can do' }).click();
  await expect(page).toHaveURL(/#what-an-attacker-can-do$/);
  await expect(page.getByRole('heading', { name: 'What an attacker can do' })).toBeInViewport();
});

test('no credential: HTTP remembers nothing by itself', async ({ page }) => {
  const r = await runExperiment(page, 'no-credential');
  await r.expectOutcome('confirmed');
  await expect(r.fact('with_credential')).toHaveText('200');
  await expect(r.fact('without_credential')).toHaveText('401');
  await expect(r.fact('challenge')).toHaveText('Bearer realm="authlab"');
});

test('what the credential is: opaque id vs readable JWT', async ({ page }) => {
  const r = await runExperiment(page, 'credential-contents');
  await r.expectOutcome('confirmed');
  await expect(r.fact('cookie_meaning')).toHaveText('16 random bytes, no structure');
  await expect(r.fact('jwt_claims')).toContainText('exp');
  await expect(r.fact('jwt_claims')).toContainText('sub');
  await expect(r.fact('secret_inside')).toHaveText('no');
});

test('a stolen session cookie works until revoked, then dies at once', async ({ page }) => {
  const r = await runExperiment(page, 'stolen-cookie');
  await r.expectOutcome('confirmed');
  await expect(r.fact('thief_before')).toHaveText('200');
  await expect(r.fact('revoke')).toHaveText('204');
  await expect(r.fact('thief_after')).toHaveText('401');
});

test('a stolen access token outlives logout until exp; strict checking kills it', async ({ page }) => {
  const r = await runExperiment(page, 'stolen-token');
  await r.expectOutcome('confirmed');
  expect(await r.number('accepted_after_logout')).toBeGreaterThan(0);
  const window = await r.number('window_s');
  // A 2 s token plus the 5 s leeway, measured from a logout right after issue.
  expect(window).toBeGreaterThan(4);
  expect(window).toBeLessThan(9);
  await expect(r.fact('strict_after_logout')).toHaveText('401');
  await expect(r.fact('strict_store')).toContainText('family check');
  await expect(r.charts).toHaveCount(1);
  await expect(r.chartNotes).toHaveText(
    `Every green dot after the logout line is the thief getting in: ${window.toFixed(1)} s of access ` +
      'after logout. With strict checking the first replay after logout got 401.',
  );
  await expect(r.charts.locator('.chart-legend')).toHaveText(/accepted.*refused.*event/);
  // A screen reader gets each lane's counts and events in words.
  await expect(r.charts.locator('svg')).toHaveAttribute('aria-label', /: \d+ accepted, \d+ refused/);
});

test('tampered payload, alg none and a wrong key are all refused', async ({ page }) => {
  const r = await runExperiment(page, 'forgery');
  await r.expectOutcome('confirmed');
  for (const key of ['tampered', 'alg_none', 'wrong_key']) {
    await expect(r.fact(key)).toHaveText('401');
  }
  await expect(r.fact('original')).toHaveText('200');
});

test('CSRF: refused with defences, succeeds without, nothing in bearer mode', async ({ page }) => {
  const r = await runExperiment(page, 'csrf');
  await r.expectOutcome('confirmed');
  await expect(r.fact('session_defended')).toHaveText('0');
  await expect(r.fact('refusal')).toContainText('Cross-site request refused');
  await expect(r.fact('refusal')).toContainText('Sec-Fetch-Site: same-site');
  await expect(r.fact('session_undefended')).toHaveText('1');
  await expect(r.fact('bearer_undefended')).toHaveText('0');
  // The defences are back on afterwards.
  await page.reload();
  await expect(page.getByTestId('switch-csrf')).toBeChecked();
});

test('XSS: what an injected script can take under each storage policy', async ({ page }) => {
  const r = await runExperiment(page, 'xss');
  await r.expectOutcome('partly');
  await expect(r.fact('local_storage_read')).toHaveText('access and refresh token');
  await expect(r.fact('local_storage_refresh_replay')).toHaveText('200');
  await expect(r.fact('session_storage_read')).toHaveText('access and refresh token');
  await expect(r.fact('memory_read')).toHaveText('nothing');
  await expect(r.fact('memory_intercepted')).toHaveText('the access token');
  await expect(r.fact('hardened_read')).toHaveText('nothing');
  await expect(r.fact('hardened_intercepted')).toHaveText('the access token');
  await expect(r.fact('hardened_refresh_replay')).toHaveText('nothing to replay');
  await expect(r.fact('session_read')).toHaveText('nothing');
  await expect(r.fact('session_acted')).toHaveText('200');
});

test('refresh-token reuse revokes the whole login', async ({ page }) => {
  const r = await runExperiment(page, 'refresh-reuse');
  await r.expectOutcome('confirmed');
  await expect(r.fact('inside_grace')).toHaveText('200');
  await expect(r.fact('same_pair')).toHaveText('yes');
  await expect(r.fact('after_grace')).toHaveText('401');
  await expect(r.fact('newest_after')).toHaveText('401');
  await expect(r.fact('devices_before')).toHaveText('1');
  await expect(r.fact('devices_after')).toHaveText('0');
});

test('server state: session rows grow with users, access tokens add none', async ({ page }) => {
  const r = await runExperiment(page, 'server-state');
  await r.expectOutcome('partly');
  await expect(r.fact('session_rows')).toHaveText('8');
  expect(await r.number('session_bytes')).toBeGreaterThan(8 * 50);
  await expect(r.fact('access_token_rows')).toHaveText('0');
  await expect(r.fact('token_rows')).toHaveText('16');
  await expect(r.charts).toHaveCount(2);
  await expect(r.chartNotes.first()).toContainText('need 16, against 8 for the sessions');
});

test('bytes on the wire: the JWT costs several times the cookie', async ({ page }) => {
  const r = await runExperiment(page, 'wire-bytes');
  await r.expectOutcome('confirmed');
  const cookie = await r.number('cookie_bytes');
  const jwt = await r.number('jwt_bytes');
  expect(cookie).toBeGreaterThan(20);
  expect(jwt).toBeGreaterThan(3 * cookie);
  await expect(r.charts.locator('rect')).toHaveCount(3);
  const note = (await r.chartNotes.textContent()) ?? '';
  const ratio = Number.parseFloat(/is ([\d.]+)× the session cookie/.exec(note)?.[1] ?? 'NaN');
  expect(Math.abs(ratio - jwt / cookie)).toBeLessThan(0.06);
});

test('sliding session vs absolute cap, on a timeline', async ({ page }) => {
  const r = await runExperiment(page, 'sliding-session');
  await r.expectOutcome('confirmed');
  expect(await r.number('active_last_ok_s')).toBeGreaterThan(3);
  const refused = await r.number('active_refused_s');
  expect(refused).toBeGreaterThan(5);
  expect(refused).toBeLessThan(7.5);
  await expect(r.fact('idle_after_pause')).toHaveText('401');
  await expect(r.charts.locator('circle').first()).toBeVisible();
  await expect(r.chartNotes).toContainText(`refused at ${refused.toFixed(1)} s by the 6 s cap`);
  await expect(r.chartNotes).toContainText('the paused one answered 401');
});

test('single-session policy ends older logins in both modes', async ({ page }) => {
  const r = await runExperiment(page, 'single-session');
  await r.expectOutcome('partly');
  await expect(r.fact('session_after_token_login')).toHaveText('401');
  await expect(r.fact('token_refresh_after')).toHaveText('401');
  await expect(r.fact('token_access_after')).toHaveText('200');
  await expect(r.fact('devices')).toHaveText('1');
  await page.reload();
  await expect(page.getByTestId('switch-single')).not.toBeChecked();
});

test('an opaque database token: a lookup per request, dead at logout', async ({ page }) => {
  const r = await runExperiment(page, 'opaque-token');
  await r.expectOutcome('confirmed');
  await expect(r.fact('opaque_after_logout')).toHaveText('401');
  await expect(r.charts.locator('rect')).toHaveCount(4);
  await expect(r.chartNotes).toContainText(/the opaque token takes \d+ µs of server auth time/);
});

test('a read-only token is refused on a write', async ({ page }) => {
  const r = await runExperiment(page, 'scoped-token');
  await r.expectOutcome('confirmed');
  await expect(r.fact('scope')).toHaveText('read');
  await expect(r.fact('read')).toHaveText('200');
  await expect(r.fact('write')).toHaveText('403');
  await expect(r.fact('full_write')).toHaveText('201');
});

test('a leaked signing secret forges tokens until the key is rotated', async ({ page }) => {
  const r = await runExperiment(page, 'leaked-secret');
  await r.expectOutcome('confirmed');
  await expect(r.fact('forged_before')).toHaveText('200');
  await expect(r.fact('forged_after')).toHaveText('401');
  await expect(r.fact('honest_after')).toHaveText('401');
  await expect(r.fact('refresh_after')).toHaveText('200');
  await expect(r.fact('honest_again')).toHaveText('200');
});

test('sessions across servers: lost without a shared store, kept with one; a token works anywhere', async ({ page }) => {
  const r = await runExperiment(page, 'shared-store');
  await r.expectOutcome('confirmed');
  await expect(r.fact('per_server_a')).toHaveText('200');
  await expect(r.fact('per_server_b')).toHaveText('0/5');
  await expect(r.fact('token_b')).toHaveText('5/5');
  await expect(r.fact('shared_d')).toHaveText('5/5');
  await expect(r.charts).toHaveCount(1);
  // The chart's text alternative holds its values.
  await expect(r.charts.locator('svg')).toHaveAttribute(
    'aria-label',
    'Requests accepted by the other server (of 5). Session, per-server store: 0 requests; ' +
      'Session, shared store: 5 requests; Access token: 5 requests',
  );
});

test('a separate API server verifies with the public key alone and cannot see a logout', async ({ page }) => {
  const r = await runExperiment(page, 'api-server');
  await r.expectOutcome('confirmed');
  await expect(r.fact('api_status')).toHaveText('200');
  await expect(r.fact('api_store')).toHaveText('0');
  await expect(r.fact('api_tampered')).toHaveText('401');
  await expect(r.fact('api_after_logout')).toHaveText('200');
  await expect(r.fact('strict_after_logout')).toHaveText('401');
});

test('logout on one server: without Redis the other server notices when its cache expires', async ({ page }) => {
  // The e2e server runs on SQLite without Redis: the peers cannot broadcast, so the verdict is
  // "partly" and the delay is the peers' 2-second session cache (the cluster run measures ms).
  const r = await runExperiment(page, 'logout-everywhere');
  await r.expectOutcome('partly');
  const longest = await r.number('max_delay');
  expect(longest).toBeGreaterThan(500);
  expect(longest).toBeLessThan(5000);
});

test('OAuth: sign in at the provider, then keep your own credential; every attack fails', async ({ page }) => {
  const r = await runExperiment(page, 'oauth');
  await r.expectOutcome('confirmed');
  await expect(r.fact('code_challenge_method')).toHaveText('S256');
  await expect(r.fact('token_in_url')).toHaveText('false');
  await expect(r.fact('session_me')).toHaveText('200');
  await expect(r.fact('state_replay')).toHaveText('400 login_expired_or_used');
  await expect(r.fact('handoff')).toHaveText('200');
  await expect(r.fact('handoff_again')).toHaveText('401');
  await expect(r.fact('wrong_issuer')).toHaveText('400 issuer_mismatch');
  await expect(r.fact('wrong_verifier')).toHaveText('400 invalid_grant');
  await expect(r.fact('code_reused')).toHaveText('400 invalid_grant');
  await expect(r.fact('wrong_nonce')).toContainText('nonce');
  await expect(r.fact('wrong_audience')).toContainText('audience');
  await expect(r.fact('provider_token')).toHaveText('401');
});
