// The Socket.IO chat app (apps/switchboard/socketio_app.cpp) against the official
// socket.io-client: connect over every transport, events and acks both ways, binary
// attachments, rooms across the node's two loops, namespaces and middleware, disconnects.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { startServer } from './lib/server.mjs';

let server;
const url = (nsp = '') => `http://127.0.0.1:${server.port}${nsp}`;
const open = new Set();

function client(opts = {}, nsp = '') {
  const s = io(url(nsp), { forceNew: true, reconnection: false, ...opts });
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

async function connected(opts = {}, nsp = '') {
  const s = client(opts, nsp);
  await once(s, 'connect');
  return s;
}

before(async () => {
  server = await startServer(['--threads', '2'], { env: { SB_SIO_TEST: '1' } });
});
after(async () => {
  for (const s of open) s.disconnect();
  await server?.stop();
});

describe('connection', () => {
  for (const [name, opts] of [
    ['default (polling, then upgrade)', {}],
    ['polling only', { transports: ['polling'] }],
    ['websocket only', { transports: ['websocket'] }],
  ]) {
    test(`${name}: connect, ack round trip with binary`, async () => {
      const s = await connected(opts);
      assert.equal(typeof s.id, 'string');
      assert.equal(s.id.length, 20);
      assert.notEqual(s.id, s.io.engine.id, 'socket id differs from the Engine.IO sid');
      const bin = Buffer.from([0, 1, 2, 255]);
      const reply = await s.timeout(3000).emitWithAck('echo', 'text', { nested: { b: bin }, n: 1.5 });
      assert.equal(reply, 'text');
      const all = await new Promise((resolve) =>
        s.emit('echo', 1, { nested: { b: bin } }, bin, [true, null], (...args) => resolve(args)));
      assert.equal(all[0], 1);
      assert.ok(Buffer.from(all[1].nested.b).equals(bin));
      assert.ok(Buffer.from(all[2]).equals(bin));
      assert.deepEqual(all[3], [true, null]);
      // Without an ack the server emits back.
      const echoed = once(s, 'echo');
      s.emit('echo', 'x', bin);
      const [x, b] = await echoed;
      assert.equal(x, 'x');
      assert.ok(Buffer.from(b).equals(bin));
      s.disconnect();
    });
  }

  test('server → client ack, and its timeout', async () => {
    const s = await connected({ transports: ['websocket'] });
    s.on('question', (cb) => cb({ answer: 42 }));
    const r = await s.timeout(3000).emitWithAck('ask', { event: 'question', timeout: 2000 });
    assert.deepEqual(r, { error: null, reply: { answer: 42 } });
    s.on('silent', () => {});
    const t = await s.timeout(3000).emitWithAck('ask', { event: 'silent', timeout: 200 });
    assert.deepEqual(t, { error: 'operation has timed out', reply: null });
    s.disconnect();
  });

  test('server namespace disconnect: "io server disconnect", no reconnection', async () => {
    const s = await connected({ reconnection: true });
    const gone = once(s, 'disconnect');
    s.emit('bye');
    const [reason] = await gone;
    assert.equal(reason, 'io server disconnect');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.connected, false);
    s.disconnect();
  });

  test('disconnect(true) closes the whole connection', async () => {
    const s = await connected({ transports: ['websocket'] });
    const gone = once(s, 'disconnect');
    s.emit('bye-all');
    const [reason] = await gone;
    assert.equal(reason, 'io server disconnect');
  });
});

describe('namespaces and middleware', () => {
  test('unknown namespace → connect_error "Invalid namespace"', async () => {
    const s = client({}, '/nowhere');
    const [err] = await once(s, 'connect_error');
    assert.equal(err.message, 'Invalid namespace');
    s.disconnect();
  });

  test('middleware refuses with message and data; accepts the right token', async () => {
    const bad = client({ auth: { token: 'nope' } }, '/admin');
    const [err] = await once(bad, 'connect_error');
    assert.equal(err.message, 'not authorized');
    assert.deepEqual(err.data, { reason: 'bad token' });
    bad.disconnect();

    const good = client({ auth: { token: 'secret' } }, '/admin');
    const [who] = await once(good, 'welcome');
    assert.equal(who, 'admin');
    assert.ok(good.connected);
    good.disconnect();
  });

  test('two namespaces multiplexed on one connection', async () => {
    const main = await connected({ transports: ['websocket'] });
    const admin = main.io.socket('/admin', { auth: { token: 'secret' } });  // connects itself
    open.add(admin);
    await once(admin, 'welcome');
    assert.notEqual(main.id, admin.id);
    assert.equal(await main.timeout(2000).emitWithAck('echo', 'm'), 'm');
    assert.equal(await admin.timeout(2000).emitWithAck('echo', 'a'), 'a');
    admin.disconnect();
    assert.equal(await main.timeout(2000).emitWithAck('echo', 'still'), 'still');
    main.disconnect();
  });
});

describe('rooms', () => {
  test('chat reaches exactly the room members, across both loops', async () => {
    const n = 40;
    const clients = await Promise.all(
      Array.from({ length: n }, (_, i) => connected(i % 3 === 0 ? { transports: ['polling'] } : {})));
    const inRoom = (i) => i % 2 === 0;
    await Promise.all(clients.map(async (s, i) => {
      s.emit('join', inRoom(i) ? 'even' : 'odd');
      // An ack round trip after the join: the join was processed.
      await s.timeout(3000).emitWithAck('echo', 0);
    }));
    // The node-wide view sees both loops' members.
    assert.equal(await clients[1].timeout(3000).emitWithAck('count', 'even'), n / 2);

    const received = clients.map(() => []);
    clients.forEach((s, i) => s.on('chat', (m) => received[i].push(m)));
    clients[1].emit('chat', { room: 'even', text: 'hello evens' });
    await new Promise((r) => setTimeout(r, 300));
    // Polling clients get it with their next GET: wait until every member has it.
    const deadline = Date.now() + 5000;
    while (received.some((r, i) => inRoom(i) && r.length === 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    received.forEach((r, i) => {
      if (inRoom(i)) assert.deepEqual(r, [{ room: 'even', text: 'hello evens', from: clients[1].id }], `client ${i}`);
      else assert.deepEqual(r, [], `client ${i} is not a member`);
    });
    for (const s of clients) s.disconnect();
  });

  test('broadcast with acks collects every member\'s answer', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => connected({ transports: ['websocket'] })));
    await Promise.all(clients.map(async (s, i) => {
      s.on('question', (cb) => {
        if (i !== 5) cb(`answer ${i}`);
      });
      if (i >= 2) {
        s.emit('join', 'quiz');
        await s.timeout(3000).emitWithAck('echo', 0);
      }
    }));
    const all = await clients[0].timeout(3000).emitWithAck('ask-room', { room: 'quiz', timeout: 1500 });
    assert.equal(all.error, 'operation has timed out');  // client 5 never answers
    assert.deepEqual(all.responses.sort(), ['answer 2', 'answer 3', 'answer 4']);

    clients[5].emit('leave', 'quiz');
    await clients[5].timeout(3000).emitWithAck('echo', 0);
    const ok = await clients[0].timeout(3000).emitWithAck('ask-room', { room: 'quiz', timeout: 1500 });
    assert.equal(ok.error, null);
    assert.deepEqual(ok.responses.sort(), ['answer 2', 'answer 3', 'answer 4']);
    for (const s of clients) s.disconnect();
  });

  test('a socket leaves its rooms when it disconnects', async () => {
    const a = await connected();
    const b = await connected();
    b.emit('join', 'temp');
    await b.timeout(3000).emitWithAck('echo', 0);
    assert.equal(await a.timeout(3000).emitWithAck('count', 'temp'), 1);
    b.disconnect();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await a.timeout(3000).emitWithAck('count', 'temp'), 0);
    a.disconnect();
  });
});
