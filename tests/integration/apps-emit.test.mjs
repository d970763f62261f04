// POST /api/v1/emit (apps/switchboard/emit_api.cpp): a backend emits to rooms of the node's
// Socket.IO clients over HTTP with a bearer key; off when no key is configured.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { startServer } from './lib/server.mjs';

const kKey = 's3cret-key';
let server;
const open = new Set();

function once(s, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    s.once(event, (...args) => {
      clearTimeout(t);
      resolve(args);
    });
  });
}

async function connected(query) {
  const s = io(`http://127.0.0.1:${server.port}`, { forceNew: true, reconnection: false, query });
  open.add(s);
  await once(s, 'connect');
  return s;
}

async function post(port, body, key = kKey) {
  const headers = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/emit`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.text() };
}

before(async () => {
  server = await startServer(['--app', 'bench', '--api-key', kKey]);
});
after(async () => {
  for (const s of open) s.disconnect();
  await server?.stop();
});

describe('POST /api/v1/emit', () => {
  test('emits to the rooms given, minus except', async () => {
    const [a, b, c] = await Promise.all([connected({ room: 'a' }), connected({ room: 'b' }),
      connected({ room: 'c' })]);
    const got = [[], [], []];
    [a, b, c].forEach((s, i) => s.on('news', (...x) => got[i].push(x)));
    // Listen before posting: the broadcast may reach `a` before the HTTP answer reaches us.
    const news = once(a, 'news');
    const res = await post(server.port, { rooms: ['a', 'b'], except: 'b', event: 'news', data: { n: 1 } });
    assert.deepEqual(res, { status: 200, body: '{"ok":true}' });
    await news;
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(got, [[[{ n: 1 }]], [], []]);
    // No rooms: the whole namespace; no data: no argument.
    const all = Promise.all([once(a, 'ping-all'), once(b, 'ping-all'), once(c, 'ping-all')]);
    assert.equal((await post(server.port, { nsp: '/', event: 'ping-all' })).status, 200);
    assert.deepEqual(await all, [[], [], []]);
  });

  test('wrong or missing key: 401', async () => {
    assert.equal((await post(server.port, { event: 'x' }, 'wrong')).status, 401);
    assert.equal((await post(server.port, { event: 'x' }, null)).status, 401);
  });

  test('malformed bodies: 400; unknown namespace: 404', async () => {
    for (const body of ['', 'not json', '[1]', '{"event":1}', '{"event":"connect"}',
      '{"event":"x","rooms":[1]}', '{"event":"x","nsp":5}', '{"event":"x"', '[[[[[[[[[[' .repeat(20)]) {
      const res = await post(server.port, body);
      assert.equal(res.status, 400, `body ${body}: ${res.body}`);
    }
    assert.equal((await post(server.port, { nsp: '/nope', event: 'x' })).status, 404);
  });

  test('without --api-key the endpoint is off', async () => {
    const s = await startServer(['--app', 'bench']);
    try {
      // Not mounted: the static-files route answers (405: it serves GET/HEAD only).
      const { status } = await post(s.port, { event: 'x' });
      assert.ok(status === 404 || status === 405, `status ${status}`);
    } finally {
      await s.stop();
    }
  });
});
