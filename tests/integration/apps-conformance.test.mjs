// `switchboard serve --app conformance` (apps/switchboard/conformance_app.cpp) against the
// official socket.io-client and engine.io-client: the server the Socket.IO conformance suite
// expects — auth echo on "/" and "/custom", message-back with binary, message-with-ack, invalid
// namespaces, the bare Engine.IO echo, and the app's short default timings.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { closedWith, echo, eioConnect } from './lib/engineio.mjs';
import { startServer } from './lib/server.mjs';

let server;
const open = new Set();

function client(nsp = '', opts = {}) {
  const s = io(`http://127.0.0.1:${server.port}${nsp}`, { forceNew: true, reconnection: false, ...opts });
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

async function handshake(port, path = '/socket.io/') {
  const res = await fetch(`http://127.0.0.1:${port}${path}?EIO=4&transport=polling`);
  const body = await res.text();
  assert.equal(body[0], '0', `open packet expected, got ${body}`);
  return JSON.parse(body.slice(1));
}

before(async () => {
  server = await startServer(['--app', 'conformance', '--node-id', '7']);
});
after(async () => {
  for (const s of open) s.disconnect();
  await server?.stop();
});

describe('conformance app', () => {
  test('handshake carries the app defaults (300/200 ms, maxPayload 1000000) and the node id', async () => {
    for (const path of ['/socket.io/', '/engine.io/']) {
      const h = await handshake(server.port, path);
      assert.equal(h.pingInterval, 300);
      assert.equal(h.pingTimeout, 200);
      assert.equal(h.maxPayload, 1000000);
      const sid = Buffer.from(h.sid, 'base64url');
      assert.equal(sid.readUInt16BE(1), 7, 'node id in the sid');
    }
  });

  for (const transports of [['polling'], ['websocket']]) {
    test(`${transports[0]}: auth event echoes the CONNECT payload, or {}`, async () => {
      const a = client('', { transports, auth: { token: 'abc', n: 1 } });
      const [auth] = await once(a, 'auth');
      assert.deepEqual(auth, { token: 'abc', n: 1 });
      const b = client('', { transports });
      const [empty] = await once(b, 'auth');
      assert.deepEqual(empty, {});
    });

    test(`${transports[0]}: message is echoed as message-back with every argument, binary included`, async () => {
      const s = client('', { transports });
      await once(s, 'connect');
      const bin = Buffer.from([1, 2, 3, 255]);
      const back = once(s, 'message-back');
      s.emit('message', 1, '2', { 3: [4] }, bin, { nested: bin });
      const args = await back;
      assert.equal(args.length, 5);
      assert.equal(args[0], 1);
      assert.equal(args[1], '2');
      assert.deepEqual(args[2], { 3: [4] });
      assert.deepEqual(Buffer.from(args[3]), bin);
      assert.deepEqual(Buffer.from(args[4].nested), bin);
    });

    test(`${transports[0]}: message-with-ack is acked with its arguments`, async () => {
      const s = client('', { transports });
      await once(s, 'connect');
      const bin = Buffer.from([9, 8, 7]);
      const reply = await new Promise((resolve) => s.emit('message-with-ack', 1, 'two', bin, (...a) => resolve(a)));
      assert.equal(reply.length, 3);
      assert.equal(reply[0], 1);
      assert.equal(reply[1], 'two');
      assert.deepEqual(Buffer.from(reply[2]), bin);
    });
  }

  test('/custom: connects and emits auth', async () => {
    const s = client('/custom', { auth: { x: 'y' } });
    const [auth] = await once(s, 'auth');
    assert.deepEqual(auth, { x: 'y' });
    assert.equal(s.connected, true);
  });

  test('any other namespace: connect_error "Invalid namespace"', async () => {
    const s = client('/random');
    const [err] = await once(s, 'connect_error');
    assert.equal(err.message, 'Invalid namespace');
  });

  test('bare Engine.IO echo at /engine.io/: text and binary', async () => {
    const s = await eioConnect(server.port);
    try {
      assert.equal(await echo(s, 'hello'), 'hello');
      const bin = Buffer.from([0, 1, 2, 3]);
      assert.deepEqual(Buffer.from(await echo(s, bin)), bin);
    } finally {
      s.close();
    }
  });

  test('connectTimeout 1000 ms: a connection that joins no namespace is closed', async () => {
    const t0 = Date.now();
    const s = await eioConnect(server.port, { path: '/socket.io/', transports: ['websocket'] });
    await closedWith(s, { timeoutMs: 4000 });
    const ms = Date.now() - t0;
    assert.ok(ms >= 800 && ms < 3500, `closed after ${ms} ms`);
  });
});

describe('protocol flags', () => {
  test('flags override the app defaults', async () => {
    const s = await startServer(['--app', 'conformance', '--ping-interval-ms', '1500',
      '--ping-timeout-ms', '900', '--max-http-buffer-size', '5000']);
    try {
      const h = await handshake(s.port);
      assert.equal(h.pingInterval, 1500);
      assert.equal(h.pingTimeout, 900);
      assert.equal(h.maxPayload, 5000);
      assert.equal(Buffer.from(h.sid, 'base64url').readUInt16BE(1), 0, 'default node id 0');
    } finally {
      await s.stop();
    }
  });

  test('chat (default app) keeps Node\'s defaults', async () => {
    const s = await startServer([]);
    try {
      const h = await handshake(s.port);
      assert.equal(h.pingInterval, 25000);
      assert.equal(h.pingTimeout, 20000);
      assert.equal(h.maxPayload, 1000000);
    } finally {
      await s.stop();
    }
  });

  test('an unknown app is refused at start-up', async () => {
    await assert.rejects(startServer(['--app', 'nope']), /chat, conformance or bench/);
  });
});
