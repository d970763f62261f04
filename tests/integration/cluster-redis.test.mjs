// Three Switchboard nodes on one real redis-server (`--adapter redis`, the wire of Node's
// @socket.io/redis-adapter), each with official socket.io-client clients: room broadcasts reach
// every member on every node exactly once; except, local, single-socket targets; broadcast acks
// across nodes (and their timeout); fetchSockets, allRooms and serverCount see the whole
// cluster; RemoteSocket join/leave/disconnect; socketsJoin/socketsLeave/disconnectSockets;
// serverSideEmit with and without acks.
//
// "Exactly once" is checked with a fence: after the message under test, a second message from
// the same sender on the same path is awaited; both travel in order (one Redis connection, one
// subscriber), so a duplicate of the first would have arrived before the fence.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Clients, call, disconnected, joinAll, metricSum, readyz, record, sorted, startSbNode, unique, waitClusterFormed,
  waitUntil,
} from './lib/cluster.mjs';
import { startRedis } from './lib/redis-server.mjs';

let redis;
let nodes = [];
let A;
let B;
let C;
const clients = new Clients();

before(async () => {
  redis = await startRedis();
  // A short requests timeout: the timeout cases below need not wait Node's 5 s default.
  nodes = await Promise.all([1, 2, 3].map((id) =>
    startSbNode(redis, { nodeId: id, args: ['--redis-requests-timeout-ms', '3000'] })));
  [A, B, C] = nodes;
  await waitClusterFormed(redis, nodes);
});

after(async () => {
  clients.closeAll();
  for (const n of nodes) await n.stop();
  await redis?.stop();
});

// One client per node (index i on node i % 3), the first one polling-only so both transports
// are covered.
async function spread(n, { room } = {}) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(await clients.connect(nodes[i % 3], i === 0 ? { transports: ['polling'] } : {}));
  }
  if (room) await joinAll(out, room);
  return out;
}

describe('broadcast', () => {
  test('a room broadcast reaches its members on every node exactly once, and no one else', async () => {
    const room = unique('room');
    const members = await spread(6, { room });
    const others = await spread(3);
    const recs = [...members, ...others].map((c) => record(c, 'chat'));
    const bin = Buffer.from([0, 1, 2, 254, 255]);
    members[4].emit('chat', room, { text: 'hello', n: 1.5, bin });
    members[4].emit('chat', room, 'fence');
    for (const r of recs.slice(0, 6)) await r.waitCount(2);
    for (const [i, r] of recs.slice(0, 6).entries()) {
      const v = r.values();
      assert.equal(v.length, 2, `member ${i} (node ${members[i].node.name}) got ${JSON.stringify(v)}`);
      assert.equal(v[0].text, 'hello');
      assert.equal(v[0].n, 1.5);
      assert.ok(Buffer.from(v[0].bin).equals(bin), `binary intact on node ${members[i].node.name}`);
      assert.equal(v[1], 'fence');
    }
    // Non-members: a broadcast to everyone arrives, and nothing before it.
    await call(others[0], 'bcast', { event: 'chat', data: 'all' });
    for (const r of recs.slice(6)) {
      await r.waitCount(1);
      assert.deepEqual(r.values(), ['all']);
    }
  });

  test('the {room, text} chat form carries the sender id to other nodes', async () => {
    const room = unique('room');
    const [a, b, c] = await spread(3, { room });
    const rc = record(c, 'chat');
    b.emit('chat', { room, text: 'hi' });
    await rc.waitCount(1);
    assert.deepEqual(rc.values(), [{ room, text: 'hi', from: b.id }]);
    assert.ok(a.connected);
  });

  test('io.emit reaches every client of every node once', async () => {
    const cs = await spread(6);
    const ev = unique('news');
    const recs = cs.map((c) => record(c, ev));
    await call(cs[2], 'bcast', { event: ev, data: { n: 1 } });
    await call(cs[2], 'bcast', { event: ev, data: 'fence' });
    for (const r of recs) {
      await r.waitCount(2);
      assert.deepEqual(r.values(), [{ n: 1 }, 'fence']);
    }
  });

  test('except skips members of the excluded room on every node', async () => {
    const room = unique('room');
    const excluded = unique('muted');
    const cs = await spread(6, { room });
    await joinAll([cs[1], cs[5]], excluded); // on nodes B and C
    const ev = unique('ev');
    const recs = cs.map((c) => record(c, ev));
    await call(cs[0], 'bcast', { rooms: [room], except: [excluded], event: ev, data: 'x' });
    await call(cs[0], 'bcast', { rooms: [room], event: ev, data: 'fence' });
    for (const [i, r] of recs.entries()) {
      await r.waitFor((v) => v.includes('fence'));
      assert.deepEqual(r.values(), i === 1 || i === 5 ? ['fence'] : ['x', 'fence'], `client ${i}`);
    }
  });

  test('local reaches only the members on the emitting node', async () => {
    const room = unique('room');
    const cs = await spread(6, { room });
    const ev = unique('ev');
    const recs = cs.map((c) => record(c, ev));
    await call(cs[1], 'bcast', { rooms: [room], local: true, event: ev, data: 'local' }); // from B
    await call(cs[1], 'bcast', { rooms: [room], event: ev, data: 'fence' });
    for (const [i, r] of recs.entries()) {
      await r.waitFor((v) => v.includes('fence'));
      assert.deepEqual(r.values(), cs[i].node === B ? ['local', 'fence'] : ['fence'], `client ${i} on ${cs[i].node.name}`);
    }
  });

  test('to(socket id) reaches that one socket on another node', async () => {
    const cs = await spread(3);
    const ev = unique('ev');
    const recs = cs.map((c) => record(c, ev));
    await call(cs[0], 'bcast', { rooms: [cs[2].id], event: ev, data: 'just you' });
    await call(cs[0], 'bcast', { event: ev, data: 'fence' });
    for (const [i, r] of recs.entries()) {
      await r.waitFor((v) => v.includes('fence'));
      assert.deepEqual(r.values(), i === 2 ? ['just you', 'fence'] : ['fence'], `client ${i}`);
    }
  });
});

describe('acks across nodes', () => {
  test('a broadcast with ack collects one answer per member on every node', async () => {
    const room = unique('q');
    const cs = await spread(5, { room });
    for (const c of cs) c.on('question', (cb) => cb({ from: c.id }));
    const r = await call(cs[1], 'ask-room', { room, timeout: 5000 });
    assert.equal(r.error, null);
    assert.deepEqual(sorted(r.responses), sorted(cs.map((c) => ({ from: c.id }))));
  });

  test('a silent member on another node: timeout error, with the answers that came', async () => {
    const room = unique('q');
    const cs = await spread(3, { room });
    cs[0].on('question', (cb) => cb('a'));
    cs[1].on('question', (cb) => cb('b'));
    cs[2].on('question', () => {}); // on C, never answers
    const r = await call(cs[0], 'ask-room', { room, timeout: 2000 });
    assert.equal(r.error, 'operation has timed out');
    assert.deepEqual(sorted(r.responses), ['a', 'b']);
  });
});

describe('fetchSockets, allRooms, serverCount', () => {
  test('fetchSockets from any node lists the sockets of every node, with their rooms', async () => {
    const room = unique('f');
    const cs = await spread(4, { room });
    const expected = sorted(cs.map((c) => ({ id: c.id, rooms: sorted([c.id, room]) })), (x) => x.id);
    for (const asker of cs.slice(0, 3)) {
      assert.deepEqual(await call(asker, 'fetch', room), expected, `asked on node ${asker.node.name}`);
    }
    assert.equal(await call(cs[2], 'count', room), 4);
    assert.deepEqual(await call(cs[1], 'members', room), cs.map((c) => c.id).sort());
    // A leave on node A is seen from node C at once (the answer is built when asked).
    assert.equal(await call(cs[3], 'leave', room), room);
    assert.deepEqual(await call(cs[2], 'members', room), cs.slice(0, 3).map((c) => c.id).sort());
  });

  test('a disconnected remote socket disappears from fetchSockets', async () => {
    const room = unique('f');
    const cs = await spread(3, { room });
    cs[2].disconnect();
    await waitUntil(async () => (await call(cs[0], 'count', room)) === 2, { what: 'the socket on C gone from fetchSockets' });
    assert.deepEqual(await call(cs[0], 'members', room), [cs[0].id, cs[1].id].sort());
  });

  test('allRooms includes rooms of other nodes; serverCount is 3', async () => {
    const room = unique('ar');
    const cs = await spread(3);
    await joinAll([cs[2]], room);
    const rooms = await call(cs[0], 'all-rooms');
    assert.ok(rooms.includes(room), `${room} (on C) in allRooms from A`);
    for (const c of cs) assert.ok(rooms.includes(c.id), 'socket-id rooms included, as Node');
    assert.equal(await call(cs[1], 'server-count'), 3);
  });
});

describe('remote membership and disconnection', () => {
  test('RemoteSocket join/leave/emit/disconnect on sockets of other nodes', async () => {
    const room = unique('rs');
    const extra = unique('rs-extra');
    const cs = await spread(3, { room });
    // From A, act on the sockets of B and C found by fetchSockets.
    const n = await call(cs[0], 'remote', { in: room, except: [cs[0].id], op: 'join', room: extra });
    assert.equal(n, 2);
    await waitUntil(async () => (await call(cs[0], 'count', extra)) === 2, { what: `B and C in ${extra}` });
    assert.deepEqual(await call(cs[0], 'members', extra), [cs[1].id, cs[2].id].sort());

    const ev = unique('ev');
    const rb = record(cs[1], ev);
    assert.equal(await call(cs[0], 'remote', { in: cs[1].id, op: 'emit', event: ev, data: { hi: 1 } }), 1);
    await rb.waitCount(1);
    assert.deepEqual(rb.values(), [{ hi: 1 }]);

    await call(cs[0], 'remote', { in: cs[2].id, op: 'leave', room: extra });
    await waitUntil(async () => (await call(cs[0], 'count', extra)) === 1, { what: `C out of ${extra}` });

    const gone = disconnected(cs[2]);
    await call(cs[0], 'remote', { in: cs[2].id, op: 'disconnect' });
    assert.equal(await gone, 'io server disconnect');
    assert.ok(cs[1].connected);
  });

  test('socketsJoin / socketsLeave / disconnectSockets reach sockets on every node', async () => {
    const room = unique('sj');
    const joined = unique('sj-new');
    const cs = await spread(4, { room });
    const outsider = (await spread(2))[1]; // on B, not in the room
    await call(cs[1], 'sockets-join', { in: room, rooms: [joined] });
    await waitUntil(async () => (await call(cs[0], 'count', joined)) === 4, { what: `4 sockets in ${joined}` });
    const ev = unique('ev');
    const recs = cs.map((c) => record(c, ev));
    await call(cs[2], 'bcast', { rooms: [joined], event: ev, data: 'joined' });
    for (const r of recs) await r.waitCount(1);

    await call(cs[2], 'sockets-leave', { in: room, except: [cs[3].id], rooms: [joined] });
    await waitUntil(async () => (await call(cs[0], 'count', joined)) === 1, { what: `only one socket left in ${joined}` });
    assert.deepEqual(await call(cs[1], 'members', joined), [cs[3].id]);

    const reasons = Promise.all(cs.map((c) => disconnected(c)));
    await call(outsider, 'disconnect-sockets', { in: room });
    assert.deepEqual(await reasons, cs.map(() => 'io server disconnect'));
    assert.ok(outsider.connected, 'a socket outside the room stays');
  });

  test('disconnectSockets(true) closes the whole connection of remote clients', async () => {
    const room = unique('dc');
    const cs = await spread(3, { room });
    const reasons = Promise.all(cs.slice(1).map((c) => disconnected(c)));
    await call(cs[0], 'disconnect-sockets', { in: room, except: [cs[0].id], close: true });
    assert.deepEqual(await reasons, ['io server disconnect', 'io server disconnect']);
  });
});

describe('serverSideEmit', () => {
  test('reaches every other node, not the emitting one', async () => {
    const cs = await spread(3); // one client per node
    const recs = cs.map((c) => record(c, 'sse'));
    const tag = unique('shout');
    await call(cs[0], 'sse', { event: 'shout', args: [tag, 1] }); // from A
    await recs[1].waitCount(1);
    await recs[2].waitCount(1);
    assert.deepEqual(recs[1].values(), [{ node: '2', event: 'shout', args: [tag, 1] }]);
    assert.deepEqual(recs[2].values(), [{ node: '3', event: 'shout', args: [tag, 1] }]);
    // Fence: a shout from B reaches A; A's own shout never came back to it.
    await call(cs[1], 'sse', { event: 'shout', args: ['from B'] });
    await recs[0].waitCount(1);
    assert.deepEqual(recs[0].values(), [{ node: '1', event: 'shout', args: ['from B'] }]);
  });

  test('with ack: one answer from each other node', async () => {
    const c = (await spread(2))[1]; // on B
    const r = await call(c, 'sse', { event: 'ping-sse', args: ['hi', { n: 2 }], ack: true });
    assert.equal(r.error, null);
    assert.deepEqual(sorted(r.responses, (x) => x.node), [
      { node: '1', got: ['hi', { n: 2 }] },
      { node: '3', got: ['hi', { n: 2 }] },
    ]);
  });

  test('with ack, for an event nobody handles: an error after the requests timeout', async () => {
    const c = (await spread(1))[0];
    const t0 = Date.now();
    const r = await call(c, 'sse', { event: unique('nobody'), args: [], ack: true });
    assert.notEqual(r.error, null);
    assert.deepEqual(r.responses, []);
    assert.ok(Date.now() - t0 < 9000, 'answered within the requests timeout, not hung');
  });
});

describe('every built-in app uses the adapter', () => {
  // Their own cluster (another key) so the three chat nodes above keep counting three servers.
  const key = 'sb-apps-test';
  const started = [];
  after(async () => {
    for (const n of started) await n.stop();
  });
  const start = async (nodeId, args) => {
    const n = await startSbNode(redis, { nodeId, key, args });
    started.push(n);
    return n;
  };

  test('POST /api/v1/emit on one node reaches clients of another', async () => {
    const apiKey = 'cluster-api-key';
    const [a, b] = [await start(11, ['--api-key', apiKey]), await start(12, ['--api-key', apiKey])];
    await waitClusterFormed(redis, [a, b], { key });
    const room = unique('api');
    const cb = await clients.connect(b);
    await joinAll([cb], room);
    const rec = record(cb, 'news');
    const res = await fetch(`http://127.0.0.1:${a.port}/api/v1/emit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ rooms: [room], event: 'news', data: { via: 'api' } }),
    });
    assert.equal(res.status, 200);
    await rec.waitCount(1);
    assert.deepEqual(rec.values(), [{ via: 'api' }]);
    for (const n of [a, b]) await n.stop();
  });

  test('bench: a broadcast from a client of one node reaches the room on another', async () => {
    const [a, b] = [await start(21, ['--app', 'bench']), await start(22, ['--app', 'bench'])];
    await waitClusterFormed(redis, [a, b], { key });
    const room = unique('bench');
    const member = await clients.connect(a, { query: { room } });
    const sender = await clients.connect(b);
    const rec = record(member, 'm');
    sender.emit('b', { seq: 1 }, room);
    await rec.waitCount(1);
    assert.deepEqual(rec.values(), [{ seq: 1 }]);
    for (const n of [a, b]) await n.stop();
  });

  test('conformance: its nodes join the cluster too', async () => {
    const [a, b] = [await start(31, ['--app', 'conformance']), await start(32, ['--app', 'conformance'])];
    await waitClusterFormed(redis, [a, b], { key });
    for (const n of [a, b]) await n.stop();
  });
});

describe('a node alone', () => {
  test('skips publishing while alone, unless --redis-always-publish', async () => {
    const key = 'sb-alone-test';
    const alone = await startSbNode(redis, { nodeId: 41, key });
    const always = await startSbNode(redis, { nodeId: 42, key: `${key}-2`, args: ['--redis-always-publish'] });
    try {
      await waitClusterFormed(redis, [alone], { key });
      await waitClusterFormed(redis, [always], { key: `${key}-2` });
      const ca = await clients.connect(alone);
      const cb = await clients.connect(always);
      // Both see themselves as one server; their clients still get every broadcast.
      assert.equal(await call(ca, 'server-count'), 1);
      const room = unique('alone');
      await joinAll([ca], room);
      await joinAll([cb], room);
      const ra = record(ca, 'chat');
      const rb = record(cb, 'chat');
      const before = await metricSum(always, /^sb_adapter_published_total$/);
      await waitUntil(async () => {
        ca.emit('chat', room, 'x');
        return (await metricSum(alone, /^sb_adapter_publish_skipped_total$/)) > 0;
      }, { what: 'a skipped publish on the node alone' });
      cb.emit('chat', room, 'y');
      await rb.waitCount(1);
      assert.deepEqual(rb.values(), ['y']);
      assert.ok(ra.values().length >= 1 && ra.values().every((v) => v === 'x'));
      // The publish runs on loop 0 after the local delivery: wait for it rather than read at once.
      await waitUntil(async () => (await metricSum(always, /^sb_adapter_published_total$/)) > before,
        { what: 'a publish on the node that always publishes' });
      assert.equal(await metricSum(always, /^sb_adapter_publish_skipped_total$/), 0);
    } finally {
      await alone.stop();
      await always.stop();
    }
  });
});

test('every node stayed ready and healthy', async () => {
  for (const n of nodes) assert.deepEqual(await readyz(n), { status: 200, body: 'ready' });
});
