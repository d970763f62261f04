// WebSocket opening handshake (RFC 6455 §4): what the server accepts and how it refuses.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertHealthy, startServer } from './lib/server.mjs';
import { exchange, upgradeRequest, wsAccept, wsOpen } from './lib/raw.mjs';
import { Op, close, readClose, text } from './lib/frames.mjs';

let server;
let corsServer;
before(async () => {
  server = await startServer();
  corsServer = await startServer(['--cors-origin', 'http://a.example']);
});
after(async () => {
  await server?.stop();
  await corsServer?.stop();
});

async function handshake(port, path, headers) {
  const { response, conn } = await exchange(port, upgradeRequest(path, headers).text);
  conn.destroy();
  assert.ok(response, 'connection closed without a response');
  return response;
}

describe('accepted handshakes', () => {
  test('RFC 6455 sample key gets the sample accept value', async () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const res = await handshake(server.port, '/raw/echo', { 'Sec-WebSocket-Key': key });
    assert.equal(res.status, 101);
    assert.equal(res.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    assert.equal(wsAccept(key), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    assert.equal(res.headers.upgrade?.toLowerCase(), 'websocket');
    assert.match(res.headers.connection ?? '', /upgrade/i);
  });

  test('header names and tokens are case-insensitive; Connection may list several tokens', async () => {
    const { conn } = await wsOpen(server.port, '/raw/echo', {
      Upgrade: 'WebSocket',
      Connection: 'keep-alive, Upgrade',
    });
    try {
      await conn.write(text('hi'));
      const f = await conn.readFrame();
      assert.equal(f.opcode, Op.kText);
      assert.equal(f.payload.toString(), 'hi');
    } finally {
      conn.destroy();
    }
  });

  test('an upgrade on an unknown path → 404', async () => {
    const res = await handshake(server.port, '/raw/nope');
    assert.equal(res.status, 404);
  });
});

describe('refused handshakes', () => {
  const cases = [
    ['missing Upgrade', { Upgrade: null }, 400],
    ['Upgrade: h2c', { Upgrade: 'h2c' }, 400],
    ['missing Connection', { Connection: null }, 400],
    ['Connection without upgrade token', { Connection: 'keep-alive' }, 400],
    ['missing Sec-WebSocket-Key', { 'Sec-WebSocket-Key': null }, 400],
    ['Sec-WebSocket-Key not base64 of 16 bytes', { 'Sec-WebSocket-Key': 'abc' }, 400],
    ['Sec-WebSocket-Key of 15 bytes', { 'Sec-WebSocket-Key': Buffer.alloc(15, 1).toString('base64') }, 400],
  ];
  for (const [name, headers, status] of cases) {
    test(`${name} → ${status}`, async () => {
      const res = await handshake(server.port, '/raw/echo', headers);
      assert.equal(res.status, status);
      assert.equal(res.headers['sec-websocket-accept'], undefined);
    });
  }

  test('Sec-WebSocket-Version: 8 → 426 with Sec-WebSocket-Version: 13', async () => {
    const res = await handshake(server.port, '/raw/echo', { 'Sec-WebSocket-Version': '8' });
    assert.equal(res.status, 426);
    assert.match(res.headers['sec-websocket-version'] ?? '', /\b13\b/);
  });

  test('missing Sec-WebSocket-Version → 400 or 426', async () => {
    const res = await handshake(server.port, '/raw/echo', { 'Sec-WebSocket-Version': null });
    assert.ok([400, 426].includes(res.status), `status ${res.status}`);
  });

  test('POST upgrade → not 101', async () => {
    const { text: t } = upgradeRequest('/raw/echo');
    const { response, conn } = await exchange(server.port, t.replace(/^GET/, 'POST'));
    conn.destroy();
    assert.ok(response && response.status >= 400, `status ${response?.status}`);
  });

  test('the server is healthy after refused handshakes', async () => {
    await assertHealthy(server.port);
  });
});

describe('Origin check with --cors-origin http://a.example', () => {
  test('an allowed Origin → 101', async () => {
    const { conn } = await wsOpen(corsServer.port, '/raw/echo', { Origin: 'http://a.example' });
    conn.destroy();
  });

  test('another Origin → 403', async () => {
    const res = await handshake(corsServer.port, '/raw/echo', { Origin: 'http://b.example' });
    assert.equal(res.status, 403);
  });

  test('no Origin (a non-browser client) → 101', async () => {
    const { conn } = await wsOpen(corsServer.port, '/raw/echo');
    await conn.write(text('x'));
    assert.equal((await conn.readFrame()).payload.toString(), 'x');
    await conn.write(close(1000));
    const c = await readClose(conn);
    assert.equal(c.code, 1000);
    conn.destroy();
  });
});
