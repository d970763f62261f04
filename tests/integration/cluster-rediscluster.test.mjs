// The sharded adapter over a real Redis Cluster: three masters started here
// (lib/redis-cluster.mjs), three `switchboard serve --adapter redis-sharded` nodes each given a
// different master's URL (they find out it is a cluster by themselves), official
// socket.io-client clients on every node. Room broadcasts reach every member exactly once for
// rooms whose channels hash to each of the three masters; server count and fetchSockets span the
// cluster; and a Node.js socket.io server in this process, with createShardedAdapter over a
// `redis` v4 cluster client (createCluster), shares the cluster in both directions.
//
// "Exactly once" uses a fence: a second message on the same channel from the same sender,
// awaited after the first (one channel, one subscriber per node: in order).

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { createCluster } from 'redis';
import { Server } from 'socket.io';
import { Clients, call, joinAll, readyz, record, sorted, startSbNode, unique, waitUntil } from './lib/cluster.mjs';
import { startRedisCluster } from './lib/redis-cluster.mjs';

let cluster;
let nodes = [];
const clients = new Clients();
let peer; // { io, httpServer, port, pub, sub, kind, name }

/** Σ over masters of PUBSUB SHARDNUMSUB `channel` (what serverCount does on a cluster). */
async function shardSubscribers(channel) {
  let sum = 0;
  for (const n of cluster.nodes) sum += Number((await n.command('PUBSUB', 'SHARDNUMSUB', channel))[1]);
  return sum;
}

async function waitFormed(expected) {
  await waitUntil(async () => {
    for (const n of nodes) if ((await readyz(n)).status !== 200) return false;
    return (await shardSubscribers('socket.io#/#')) === expected;
  }, { timeoutMs: 20_000, what: `${expected} servers subscribed to socket.io#/# across the masters` });
}

/** One room name per master: rooms[i]'s channel `socket.io#/#<room>#` hashes to master i. */
async function roomPerMaster() {
  const rooms = new Array(cluster.nodes.length).fill(null);
  for (let i = 0; rooms.includes(null) && i < 10_000; i++) {
    const room = unique(`r${i}`);
    const owner = await cluster.ownerOf(`socket.io#/#${room}#`);
    if (owner >= 0 && rooms[owner] === null) rooms[owner] = room;
  }
  return rooms;
}

async function startNodePeerInProcess(url) {
  const pub = createCluster({ rootNodes: [{ url }] });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createShardedAdapter(pub, sub) });
  io.on('connection', (socket) => {
    socket.on('join', (room, ack) => {
      socket.join(room);
      ack?.(room);
    });
    socket.on('chat', (room, msg) => io.to(room).emit('chat', msg));
    socket.on('server-count', async (ack) => ack(await io.of('/').adapter.serverCount()));
  });
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  return { io, httpServer, pub, sub, port: httpServer.address().port, kind: 'node', name: 'node-peer' };
}

before(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  nodes = await Promise.all([0, 1, 2].map((i) =>
    startSbNode(cluster.nodes[i], { nodeId: i + 1, adapter: 'redis-sharded' })));
  await waitFormed(3);
});

after(async () => {
  clients.closeAll();
  if (peer) {
    peer.io.close();
    await Promise.allSettled([peer.pub.disconnect(), peer.sub.disconnect()]);
  }
  for (const n of nodes) await n.stop();
  await cluster?.stop();
});

describe('sharded adapter on a 3-master Redis Cluster', () => {
  test('room broadcasts reach every member on every node exactly once, rooms on every master', async () => {
    const rooms = await roomPerMaster();
    assert.ok(!rooms.includes(null), `a room per master: ${rooms}`);
    const members = [];
    for (let i = 0; i < 6; i++) members.push(await clients.connect(nodes[i % 3]));
    const outsider = await clients.connect(nodes[1]);
    for (const room of rooms) await joinAll(members, room);
    // Each room channel has one subscription per node, at the master owning it.
    for (const [m, room] of rooms.entries()) {
      const ch = `socket.io#/#${room}#`;
      await waitUntil(async () => Number((await cluster.nodes[m].command('PUBSUB', 'SHARDNUMSUB', ch))[1]) === 3,
        { what: `3 subscribers of ${ch} on master ${m}` });
    }
    const recs = members.map((c) => record(c, 'chat'));
    const other = record(outsider, 'chat');
    for (const [k, room] of rooms.entries()) {
      const sender = members[k]; // a different node each time
      sender.emit('chat', room, { room: k, bin: Buffer.from([k, 255]) });
      sender.emit('chat', room, `fence-${k}`);
    }
    for (const [i, r] of recs.entries()) {
      await r.waitCount(6);
      for (const [k] of rooms.entries()) {
        const got = r.values().filter((v) => v === `fence-${k}` || v?.room === k);
        assert.equal(got.length, 2, `member ${i} (node ${members[i].node.name}), room ${k}: ${JSON.stringify(got)}`);
        assert.ok(Buffer.from(got[0].bin).equals(Buffer.from([k, 255])), 'binary intact, before its fence');
      }
    }
    await call(outsider, 'bcast', { event: 'chat', data: 'all' });
    await other.waitCount(1);
    assert.deepEqual(other.values(), ['all']);
  });

  test('every node found out by itself that its Redis is a cluster', () => {
    for (const n of nodes) {
      const log = n.stdoutText() + n.stderrText();
      assert.match(log, /is a Redis Cluster node/, `node ${n.name} log:\n${log.slice(-2000)}`);
    }
  });

  test('server count and fetchSockets span the cluster', async () => {
    const room = unique('f');
    const cs = [];
    for (let i = 0; i < 3; i++) cs.push(await clients.connect(nodes[i]));
    await joinAll(cs, room);
    for (const c of cs) assert.equal(await call(c, 'server-count'), 3);
    const expected = sorted(cs.map((c) => ({ id: c.id, rooms: sorted([c.id, room]) })), (x) => x.id);
    assert.deepEqual(await call(cs[1], 'fetch', room), expected);
  });

  test('a Node.js peer (createShardedAdapter over createCluster) in both directions', async () => {
    peer = await startNodePeerInProcess(cluster.nodes[2].url);
    await waitFormed(4);
    const room = unique('mixed');
    const sb = await clients.connect(nodes[0]);
    const nd = await clients.connect(peer);
    await joinAll([sb, nd], room);
    await waitUntil(async () => (await shardSubscribers(`socket.io#/#${room}#`)) === 2, { what: 'both servers on the room channel' });
    assert.equal(await call(nd, 'server-count'), 4);
    const rs = record(sb, 'chat');
    const rn = record(nd, 'chat');
    nd.emit('chat', room, 'from node');
    nd.emit('chat', room, 'fence 1');
    sb.emit('chat', room, 'from switchboard');
    sb.emit('chat', room, 'fence 2');
    for (const r of [rs, rn]) {
      await r.waitFor((v) => v.includes('fence 1') && v.includes('fence 2'));
      const v = r.values();
      assert.equal(v.filter((x) => x === 'from node').length, 1, JSON.stringify(v));
      assert.equal(v.filter((x) => x === 'from switchboard').length, 1, JSON.stringify(v));
    }
  });
});
