// /metrics against real traffic from the official socket.io-client: Engine.IO sessions by
// transport, Socket.IO packets and bytes in/out (exact, from the bytes the protocol defines),
// broadcast deliveries (per receiver) and broadcasts (per packet), disconnects by Node's reason.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { getMetrics, startServer, waitUntil } from './lib/server.mjs';

let server;
const open = new Set();

function client(opts = {}) {
  const s = io(`http://127.0.0.1:${server.port}`, { forceNew: true, reconnection: false, ...opts });
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

async function connected(opts) {
  const s = client(opts);
  await once(s, 'connect');
  return s;
}

const m = (samples, key) => samples.get(key) ?? 0;
const sessions = (samples, t) => m(samples, `sb_engineio_sessions{transport="${t}"}`);
const reason = (samples, r) => m(samples, `sb_socketio_disconnects_total{reason="${r}"}`);

before(async () => {
  // Two loops: the broadcast below is delivered on both.
  server = await startServer(['--threads', '2'], { env: { SB_SIO_TEST: '1' } });
});
after(async () => {
  for (const s of open) s.disconnect();
  await server?.stop();
});

describe('metrics', () => {
  test('sessions by transport, packets and bytes, broadcasts, disconnect reasons', async () => {
    const before = await getMetrics(server.port);
    for (const name of ['sb_socketio_packets_received_total', 'sb_socketio_packets_sent_total',
      'sb_socketio_received_bytes_total', 'sb_socketio_sent_bytes_total',
      'sb_socketio_broadcast_deliveries_total', 'sb_socketio_volatile_dropped_total',
      'sb_engineio_sessions{transport="polling"}', 'sb_engineio_sessions{transport="websocket"}',
      'sb_socketio_disconnects_total{reason="transport close"}']) {
      assert.ok(before.has(name), `${name} is exported before any traffic`);
    }

    const a = await connected({ transports: ['polling'] });
    const b = await connected({ transports: ['websocket'] });
    const c = await connected({ transports: ['websocket'] });
    let now = await getMetrics(server.port);
    assert.equal(sessions(now, 'polling') - sessions(before, 'polling'), 1);
    assert.equal(sessions(now, 'websocket') - sessions(before, 'websocket'), 2);

    // Five acked echoes per client. In: `0` (1 byte) and `2<id>["echo","x"]` (14 bytes, ids
    // 0..4). Out: `0{"sid":"<20>"}` (31 bytes) and `3<id>["x"]` (7 bytes).
    for (const s of [a, b, c]) {
      for (let i = 0; i < 5; i++) assert.equal(await s.timeout(3000).emitWithAck('echo', 'x'), 'x');
    }
    now = await getMetrics(server.port);
    const d = (k) => m(now, k) - m(before, k);
    assert.equal(d('sb_socketio_packets_received_total'), 3 + 15);
    assert.equal(d('sb_socketio_received_bytes_total'), 3 * 1 + 15 * 14);
    assert.equal(d('sb_socketio_packets_sent_total'), 3 + 15);
    assert.equal(d('sb_socketio_sent_bytes_total'), 3 * 31 + 15 * 7);

    // A room broadcast to the three: one packet encoded, three deliveries.
    for (const s of [a, b, c]) s.emit('join', 'metrics-room');
    await waitUntil(async () => (await a.timeout(3000).emitWithAck('count', 'metrics-room')) === 3,
      { what: 'three members in the room' });
    const beforeChat = await getMetrics(server.port);
    const got = [a, b, c].map((s) => once(s, 'chat'));
    a.emit('chat', 'metrics-room', 'hello');
    for (const [msg] of await Promise.all(got)) assert.equal(msg, 'hello');
    now = await getMetrics(server.port);
    assert.equal(m(now, 'sb_socketio_broadcast_deliveries_total') -
      m(beforeChat, 'sb_socketio_broadcast_deliveries_total'), 3);
    // `2["chat","metrics-room","hello"]` in (32 bytes), nothing unicast out.
    assert.equal(m(now, 'sb_socketio_packets_received_total') -
      m(beforeChat, 'sb_socketio_packets_received_total'), 1);

    // Disconnects: the client leaves; the server disconnects; the transport closes. (The
    // official client then closes the Engine.IO connections it no longer uses: every session
    // ends, counted once, under the socket's reason only.)
    a.disconnect();
    b.emit('bye');
    await once(b, 'disconnect');
    c.io.engine.close();
    await waitUntil(async () => {
      const x = await getMetrics(server.port);
      return sessions(x, 'polling') === sessions(before, 'polling') &&
        sessions(x, 'websocket') === sessions(before, 'websocket') &&
        reason(x, 'transport close') - reason(before, 'transport close') === 1 &&
        reason(x, 'client namespace disconnect') - reason(before, 'client namespace disconnect') === 1 &&
        reason(x, 'server namespace disconnect') - reason(before, 'server namespace disconnect') === 1;
    }, { what: 'one disconnect of each reason and the sessions gone' });
  });

  test('a broadcast counts once as a broadcast, whatever the receivers',
    async () => {
      const s1 = await connected({ transports: ['websocket'] });
      const s2 = await connected({ transports: ['websocket'] });
      for (const s of [s1, s2]) s.emit('join', 'once-room');
      await waitUntil(async () => (await s1.timeout(3000).emitWithAck('count', 'once-room')) === 2,
        { what: 'two members' });
      const before = await getMetrics(server.port);
      const got = [s1, s2].map((s) => once(s, 'chat'));
      s1.emit('chat', 'once-room', 'hi');
      await Promise.all(got);
      const now = await getMetrics(server.port);
      assert.equal(m(now, 'sb_socketio_broadcasts_total') - m(before, 'sb_socketio_broadcasts_total'), 1);
      assert.equal(m(now, 'sb_socketio_broadcast_deliveries_total') -
        m(before, 'sb_socketio_broadcast_deliveries_total'), 2);
      s1.disconnect();
      s2.disconnect();
    });
});
