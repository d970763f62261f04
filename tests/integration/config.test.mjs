// Configuration: a TOML file sets the same options as the flags, flags override the file, and bad
// input is refused at start-up with a non-zero exit.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runBinary, startServer } from './lib/server.mjs';
import { exchange } from './lib/raw.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-config-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const www = path.join(tmp, 'www');
fs.mkdirSync(www);
fs.writeFileSync(path.join(www, 'index.html'), '<p>from the config web root</p>');
const config = path.join(tmp, 'switchboard.toml');
fs.writeFileSync(config, [
  'host = "127.0.0.1"',
  'port = 0',
  'threads = 1',
  'log_level = "info"',
  `web_root = ${JSON.stringify(www)}`,
  'max_header_bytes = 1024',
  '',
].join('\n'));

async function status(port, headerBytes) {
  const { response, conn } = await exchange(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(headerBytes)}\r\nConnection: close\r\n\r\n`);
  conn.destroy();
  return response?.status;
}

test('options come from the TOML file', async () => {
  const server = await startServer(['--config', config, '--threads', '1']);
  try {
    assert.equal(await status(server.port, 2000), 431, 'max_header_bytes = 1024 from the file not applied');
    assert.equal(await status(server.port, 100), 200);
    const { response, conn } = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    conn.destroy();
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), '<p>from the config web root</p>');
  } finally {
    await server.stop();
  }
});

test('a flag overrides the file', async () => {
  const server = await startServer(['--config', config, '--threads', '1', '--max-header-bytes', '8192']);
  try {
    assert.equal(await status(server.port, 2000), 200);
  } finally {
    await server.stop();
  }
});

test('an unknown flag, a bad value, or a missing config file exits non-zero without listening', async () => {
  for (const argv of [
    ['serve', '--port', '0', '--no-such-flag'],
    ['serve', '--port', 'not-a-number'],
    ['serve', '--port', '0', '--config', path.join(tmp, 'missing.toml')],
  ]) {
    const r = await runBinary(argv);
    assert.notEqual(r.code, 0, `${argv.join(' ')} exited 0`);
    assert.doesNotMatch(r.stdout, /listening on/, `${argv.join(' ')} started listening`);
  }
});

test('a malformed TOML file exits non-zero', async () => {
  const bad = path.join(tmp, 'bad.toml');
  fs.writeFileSync(bad, 'port = [this is not toml\n');
  const r = await runBinary(['serve', '--port', '0', '--config', bad]);
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stdout, /listening on/);
});
