// Configuration: a TOML file sets the same options as the flags, flags override the file, and bad
// input is refused at start-up with a non-zero exit.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { repoRoot, runBinary, startServer } from './lib/server.mjs';
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

test('the example deploy/switchboard.toml is accepted as is', async () => {
  const server = await startServer(['--config', path.join(repoRoot, 'deploy/switchboard.toml'),
    '--host', '127.0.0.1', '--port', '0', '--threads', '1']);
  try {
    const { response, conn } = await exchange(server.port, 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    conn.destroy();
    assert.equal(response.status, 200);
  } finally {
    await server.stop();
  }
});

test('cluster flags: a bad adapter, URL, or subscription mode exits 2 with a message', async () => {
  for (const [argv, message] of [
    [['--adapter', 'zookeeper'], /--adapter: memory, redis or redis-sharded/],
    [['--adapter', 'redis', '--redis', 'http://127.0.0.1:6379'], /--redis: bad URL 'http:\/\/127\.0\.0\.1:6379'/],
    [['--adapter', 'redis', '--redis', 'redis://127.0.0.1:notaport'], /--redis: bad URL/],
    // The password never reaches the message.
    [['--adapter', 'redis', '--redis', 'redis://bob:hunter2@127.0.0.1:x'], /--redis: bad URL 'redis:\/\/\*\*\*@127\.0\.0\.1:x'/],
    [['--adapter', 'redis-sharded', '--redis-subscription-mode', 'sometimes'], /--redis-subscription-mode/],
    [['--adapter', 'redis', '--redis-key', ''], /--redis-key/],
  ]) {
    const r = await runBinary(['serve', '--host', '127.0.0.1', '--port', '0', ...argv]);
    assert.equal(r.code, 2, `${argv.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message, argv.join(' '));
    assert.doesNotMatch(r.stdout, /listening on/);
  }
});

test('cluster settings come from the TOML file too', async () => {
  const file = path.join(tmp, 'cluster.toml');
  fs.writeFileSync(file, [
    'adapter = "redis"',
    'redis_url = "redis://127.0.0.1:notaport"',
    'redis_key = "k"',
    'redis_requests_timeout_ms = 1000',
    'redis_max_queue = 10',
    'redis_subscription_mode = "static"',
    'redis_always_publish = true',
    '',
  ].join('\n'));
  // The file's bad URL is refused: proof that its cluster keys were read.
  const r = await runBinary(['serve', '--host', '127.0.0.1', '--port', '0', '--config', file]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--redis: bad URL 'redis:\/\/127\.0\.0\.1:notaport'/);
  // A flag wins over the file: with --adapter memory the URL is not used, and the node starts.
  const server = await startServer(['--config', file, '--adapter', 'memory', '--threads', '1']);
  await server.stop();
});
