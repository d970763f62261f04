// `switchboard serve --app bench` (apps/switchboard/bench_app.cpp) and the chat app's
// chat(room, msg) shape, against the official socket.io-client.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { startServer } from './lib/server.mjs';

const open = new Set();

function client(port, opts = {}) {
  const s = io(`http://127.0.0.1:${port}`, { forceNew: true, reconnection: false, ...opts });
  open.add(s);
  return s;
}

function once(s, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    s.once(event, (...args) => {
      clearTimeout(t);
      resolve(args);
    });
  });
}

async function connected(port, opts = {}) {
  const s = client(port, opts);
  await once(s, 'connect');
  return s;
}

// Collects every `event` of each socket.
function collect(sockets, event) {
  const got = sockets.map(() => []);
  sockets.forEach((s, i) => s.on(event, (...a) => got[i].push(a)));
  return got;
}

const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));


describe('bench app', () => {
  let server;
  before(async () => {
    server = await startServer(['--app', 'bench']);
  });
  after(async () => {
    for (const s of open) s.disconnect();
    await server?.stop();
  });

  test('query room=NAME joins NAME; b(data, room) reaches that room only', async () => {
    const [a1, a2, b1, none] = await Promise.all([
      connected(server.port, { query: { room: 'a' } }),
      connected(server.port, { query: { room: 'a' }, transports: ['websocket'] }),
      connected(server.port, { query: { room: 'b' }, transports: ['polling'] }),
      connected(server.port),
    ]);
    const got = collect([a1, a2, b1, none], 'm');
    none.emit('b', { n: 1 }, 'a');
    await once(a1, 'm');
    await settle();
    assert.deepEqual(got[0], [[{ n: 1 }]]);
    assert.deepEqual(got[1], [[{ n: 1 }]]);
    assert.deepEqual(got[2], []);
    assert.deepEqual(got[3], [], 'the sender is in no room');
  });

  test('b(data) without a room goes to room "r"; binary data is forwarded', async () => {
    const [r1, r2, other] = await Promise.all([
      connected(server.port, { query: { room: 'r' } }),
      connected(server.port, { query: { room: 'r' }, transports: ['websocket'] }),
      connected(server.port, { query: { room: 'x' } }),
    ]);
    const got = collect([r1, r2, other], 'm');
    const bin = Buffer.from([1, 2, 3]);
    r1.emit('b', bin);
    await once(r2, 'm');
    await settle();
    assert.equal(got[0].length, 1, 'the sender is in r too');
    assert.deepEqual(Buffer.from(got[1][0][0]), bin);
    assert.deepEqual(got[2], []);
  });

  test('e(data) is acked with data', async () => {
    for (const transports of [['polling'], ['websocket']]) {
      const s = await connected(server.port, { transports });
      assert.deepEqual(await s.timeout(3000).emitWithAck('e', { t: 123, s: 'x' }), { t: 123, s: 'x' });
      assert.equal(await s.timeout(3000).emitWithAck('e', 42), 42);
    }
  });
});

describe('chat app', () => {
  let server;
  before(async () => {
    server = await startServer(['--app', 'chat']);
  });
  after(async () => {
    for (const s of open) s.disconnect();
    await server?.stop();
  });

  test('join(room), chat(room, msg) → io.to(room).emit("chat", msg); leave(room)', async () => {
    const [a, b, c] = await Promise.all([connected(server.port), connected(server.port),
      connected(server.port)]);
    a.emit('join', 'lobby');
    b.emit('join', 'lobby');
    c.emit('join', 'elsewhere');
    await settle(150);
    const got = collect([a, b, c], 'chat');
    a.emit('chat', 'lobby', 'hello');
    await once(b, 'chat');
    await settle();
    assert.deepEqual(got[0], [['hello']]);
    assert.deepEqual(got[1], [['hello']]);
    assert.deepEqual(got[2], []);
    b.emit('leave', 'lobby');
    await settle(150);
    a.emit('chat', 'lobby', { text: 'again' });
    await once(a, 'chat');
    await settle();
    assert.deepEqual(got[0][1], [{ text: 'again' }]);
    assert.equal(got[1].length, 1, 'b left the room');
  });
});
