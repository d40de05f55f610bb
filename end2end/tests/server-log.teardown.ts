import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * After the whole run: the e2e server must not have panicked or logged an error. Either would
 * mean a request died or failed inside the server, even if the page under test recovered.
 */
export default function checkServerLog() {
  const path = resolve(__dirname, '../../target/e2e/server.log');
  const log = readFileSync(path, 'utf8');
  const bad = log
    .split('\n')
    .filter((line) => /panicked at| ERROR /.test(line.replace(/\u001b\[[0-9;]*m/g, '')));
  if (bad.length > 0) {
    throw new Error(`The e2e server panicked or logged errors (${path}):\n${bad.slice(0, 10).join('\n')}`);
  }
}
