// volatile and socket.use() on the wire. A volatile emit reaches a WebSocket client, and is
// dropped (and counted) for a polling session that has no GET waiting — driven with raw
// polling requests, so "no GET in flight" is a fact, not a timing. socket.use(): a refused
// event never reaches its handler, the socket's own "error" listener hears it, the client gets
// no error packet and stays connected. Uses the SB_SIO_TEST hooks "volatile" and "forbidden"
// of apps/switchboard/socketio_app.cpp.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { RS, pollPath, rawHandshake, request } from './lib/engineio.mjs';
import { getMetrics, startServer } from './lib/server.mjs';

let server;
let hooks = false;  // the app has the test hooks
const open = new Set();
const P = '/socket.io/';

function once(s, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    s.once(event, (...args) => {
      clearTimeout(t);
      resolve(args);
    });
  });
}

async function wsClient() {
  const s = io(`http://127.0.0.1:${server.port}`, { forceNew: true, reconnection: false, transports: ['websocket'] });
  open.add(s);
  await once(s, 'connect');
  return s;
}

// A Socket.IO session on raw polling requests: nothing is in flight unless the test sends it.
async function rawSession() {
  const { sid } = await rawHandshake(server.port, P);
  const post = async (body) => {
    const r = await request(server.port, pollPath(sid, P), { method: 'POST', body });
    assert.equal(r.status, 200, `POST ${body}: ${r.body}`);
  };
  const get = async () => {
    const r = await request(server.port, pollPath(sid, P));
    assert.equal(r.status, 200);
    return r.body.toString().split(RS);
  };
  await post('40');
  const first = await get();
  assert.match(first[0], /^40\{"sid":"/);
  return { sid, post, get };
}

const dropped = async () => (await getMetrics(server.port)).get('sb_socketio_volatile_dropped_total');

before(async () => {
  server = await startServer(['--threads', '2'], { env: { SB_SIO_TEST: '1' } });
  const s = await wsClient();
  try {
    hooks = (await s.timeout(2000).emitWithAck('volatile', { to: 'none' })) === true;
  } catch {
    hooks = false;
  }
  s.disconnect();
});
after(async () => {
  for (const s of open) s.disconnect();
  await server?.stop();
});

// Skips (visibly) on a binary built without the app's test hooks; decided at run time, once
// before() has probed the server.
function withHooks(fn) {
  return async (t) => {
    if (!hooks) {
      t.skip('the app lacks the "volatile" / "forbidden" test hooks (apps/switchboard/socketio_app.cpp)');
      return;
    }
    await fn(t);
  };
}

describe('volatile', () => {
  test('a WebSocket client gets a volatile emit', withHooks(async () => {
    const s = await wsClient();
    const v = once(s, 'v');
    assert.equal(await s.timeout(3000).emitWithAck('volatile', { to: 'self', seq: 7 }), true);
    assert.deepEqual(await v, [7]);
    s.disconnect();
  }));

  test('a polling session with no GET in flight does not', withHooks(async () => {
    const raw = await rawSession();
    const before = await dropped();
    // Acked: the ack (not volatile) is queued, the volatile packet is not.
    await raw.post('421["volatile",{"to":"self","seq":1}]');
    const body = await raw.get();
    assert.ok(body.includes('431[true]'), `ack expected in ${JSON.stringify(body)}`);
    assert.ok(!body.includes('42["v",1]'), `volatile packet delivered: ${JSON.stringify(body)}`);
    assert.equal(await dropped() - before, 1);

    // With a GET waiting, it is delivered: send until the parked GET carries one (each POST
    // before the GET is parked is dropped, so the loop ends as soon as it is).
    const pending = raw.get();
    let done = false;
    pending.then(() => { done = true; }, () => { done = true; });
    for (let seq = 2; !done && seq < 500; seq++) {
      await raw.post(`42["volatile",{"to":"self","seq":${seq}}]`);
    }
    const got = await pending;
    assert.ok(got.some((p) => /^42\["v",\d+\]$/.test(p)), `no volatile packet in ${JSON.stringify(got)}`);
  }));

  test('io.volatile_(): the WebSocket client gets it, the idle polling session not', withHooks(async () => {
    const raw = await rawSession();
    const s = await wsClient();
    const v = once(s, 'v');
    assert.equal(await s.timeout(3000).emitWithAck('volatile', { to: 'all', seq: 9 }), true);
    assert.deepEqual(await v, [9]);
    // A non-volatile marker after it: the next GET has the marker and not the volatile packet.
    await raw.post('42["echo","mark"]');
    const body = await raw.get();
    assert.ok(body.includes('42["echo","mark"]'), JSON.stringify(body));
    assert.ok(!body.includes('42["v",9]'), JSON.stringify(body));
    s.disconnect();
  }));
});

describe('socket.use', () => {
  test('a refused event reaches the socket\'s error listener, not its handler', withHooks(async () => {
    const s = await wsClient();
    let ran = false;
    let acked = false;
    s.on('forbidden-ran', () => { ran = true; });
    const err = once(s, 'use-error');
    s.emit('forbidden', 1, () => { acked = true; });
    assert.deepEqual(await err, [{ message: 'forbidden event', data: { event: 'forbidden' } }]);
    // Events are handled in order: once a later echo is answered, a handler or ack of the
    // refused event would have shown.
    assert.equal(await s.timeout(3000).emitWithAck('echo', 'after'), 'after');
    assert.equal(ran, false);
    assert.equal(acked, false);
    assert.equal(s.connected, true);
    s.disconnect();
  }));
});
