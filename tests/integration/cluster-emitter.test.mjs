// @socket.io/redis-emitter 5.1 (npm, with the npm `redis` v4 client) publishing into a
// Switchboard-only cluster of two nodes that use a non-default key (--redis-key): to a room, to
// everyone, to another namespace, with except and binary, socketsJoin / disconnectSockets, and
// serverSideEmit. An emitter with another key reaches nobody.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Emitter } from '@socket.io/redis-emitter';
import { createClient } from 'redis';
import {
  Clients, call, disconnected, joinAll, record, startSbNode, unique, waitClusterFormed, waitUntil,
} from './lib/cluster.mjs';
import { startRedis } from './lib/redis-server.mjs';

const key = 'sb-emitter-test';
let redis;
let nodes = [];
let redisClient;
let emitter;
const clients = new Clients();

before(async () => {
  redis = await startRedis();
  nodes = await Promise.all([1, 2].map((id) => startSbNode(redis, { nodeId: id, key })));
  await waitClusterFormed(redis, nodes, { key });
  redisClient = createClient({ url: redis.url });
  redisClient.on('error', () => {});
  await redisClient.connect();
  emitter = new Emitter(redisClient, { key });
});

after(async () => {
  clients.closeAll();
  await redisClient?.quit();
  for (const n of nodes) await n.stop();
  await redis?.stop();
});

// n clients alternating between the two nodes.
async function spread(n, opts = {}) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await clients.connect(nodes[i % 2], opts));
  return out;
}

describe('redis-emitter into a Switchboard cluster', () => {
  test('to a room: members on both nodes, exactly once; others nothing', async () => {
    const room = unique('room');
    const cs = await spread(6);
    await joinAll(cs.slice(0, 4), room);
    const ev = unique('ev');
    const recs = cs.map((c) => record(c, ev));
    emitter.to(room).emit(ev, { n: 1 }, 'two');
    emitter.emit(ev, 'fence');
    for (const [i, r] of recs.entries()) {
      await r.waitFor((v) => v.includes('fence'));
      assert.deepEqual(r.values(), i < 4 ? [[{ n: 1 }, 'two'], 'fence'] : ['fence'], `client ${i} on node ${cs[i].node.name}`);
    }
  });

  test('to everyone, with except and binary', async () => {
    const muted = unique('muted');
    const cs = await spread(4);
    await joinAll([cs[1]], muted);
    const ev = unique('ev');
    const recs = cs.map((c) => record(c, ev));
    const bin = Buffer.from([1, 2, 3, 0, 255]);
    emitter.except(muted).emit(ev, { bin });
    emitter.emit(ev, 'fence');
    for (const [i, r] of recs.entries()) {
      await r.waitFor((v) => v.includes('fence'));
      const v = r.values();
      if (i === 1) {
        assert.deepEqual(v, ['fence']);
      } else {
        assert.equal(v.length, 2, JSON.stringify(v));
        assert.ok(Buffer.from(v[0].bin).equals(bin));
      }
    }
  });

  test('to another namespace (/admin) only', async () => {
    const admins = await spread(2, { nsp: '/admin', auth: { token: 'secret' } });
    const mains = await spread(2);
    const ev = unique('ev');
    const ra = admins.map((c) => record(c, ev));
    const rm = mains.map((c) => record(c, ev));
    emitter.of('/admin').emit(ev, 'admins only');
    emitter.emit(ev, 'fence');
    for (const r of ra) await r.waitCount(1);
    for (const r of rm) await r.waitCount(1);
    for (const r of ra) assert.deepEqual(r.values(), ['admins only']);
    for (const r of rm) assert.deepEqual(r.values(), ['fence']);
  });

  test('socketsJoin and disconnectSockets reach sockets on both nodes', async () => {
    const room = unique('room');
    const joined = unique('joined');
    const cs = await spread(4);
    await joinAll(cs, room);
    emitter.in(room).socketsJoin(joined);
    await waitUntil(async () => (await call(cs[0], 'count', joined)) === 4, { what: `4 sockets in ${joined}` });
    const reasons = Promise.all(cs.map((c) => disconnected(c)));
    emitter.in(joined).disconnectSockets();
    assert.deepEqual(await reasons, cs.map(() => 'io server disconnect'));
  });

  test('serverSideEmit reaches every node', async () => {
    const cs = await spread(2);
    const recs = cs.map((c) => record(c, 'sse'));
    const tag = unique('emitter-shout');
    emitter.serverSideEmit('shout', tag);
    for (const [i, r] of recs.entries()) {
      await r.waitCount(1);
      assert.deepEqual(r.values(), [{ node: String(i + 1), event: 'shout', args: [tag] }]);
    }
  });

  test('an emitter with another key reaches nobody', async () => {
    const cs = await spread(2);
    const ev = unique('ev');
    const recs = cs.map((c) => record(c, ev));
    new Emitter(redisClient).emit(ev, 'wrong key'); // default key "socket.io"
    emitter.emit(ev, 'fence');
    for (const r of recs) {
      await r.waitCount(1);
      assert.deepEqual(r.values(), ['fence']);
    }
  });
});
