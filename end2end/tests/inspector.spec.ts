import { test, expect } from './fixtures';
import { signUpAndLogIn } from './pages/flows';
import { Inspector } from './pages/inspector';

test('the inspector shows the credential that travelled, its size, and Server-Timing', async ({ page, mode, username }) => {
  await signUpAndLogIn(page, mode, username);
  // The profile page calls /me every 2 seconds.
  await expect(page.getByTestId('calls-ok')).not.toHaveText('0');

  const inspector = new Inspector(page);
  await inspector.open();
  const last = inspector.latest('/api/fn/me');
  await expect(last.getByTestId('inspector-status')).toHaveText('200');
  const credential = last.getByTestId('inspector-credential');
  if (mode === 'session') {
    await expect(credential).toHaveText(/^Cookie \(\d+ B\) — sent by the browser; HttpOnly/);
    await expect(last.getByTestId('inspector-timing')).toContainText('auth session');
  } else {
    await expect(credential).toHaveText(/^Authorization: Bearer eyJ.*… \(\d{3} B\)$/);
    await expect(last.getByTestId('inspector-timing')).toContainText('auth jwt');
  }
  await expect(last.getByTestId('inspector-timing')).toHaveText(/\d+\.\d{3} ms/);

  // What page scripts can read, and what the server keeps.
  await expect(inspector.storage).toContainText('document.cookie');
  await expect(inspector.storage).not.toContainText('authlab_session');
  await expect(inspector.server).toContainText(`For ${username}:`);
  await expect(inspector.server).toContainText(mode === 'session' ? '1 session record(s)' : '1 token login(s)');
});
