// Mixed clusters: Node.js nodes (socket.io 4.8 + @socket.io/redis-adapter 8.3, peers/node-sio.mjs)
// and Switchboard nodes on the same redis-server, each with official socket.io-client clients.
// In both directions: broadcasts reach the other kind's clients (binary included), fetchSockets
// sees the other kind's sockets, broadcast acks and serverSideEmit acks are answered, and
// socketsJoin / disconnectSockets act on the other kind's sockets. Once with the classic
// adapter (createAdapter) on both sides, once with the sharded one (createShardedAdapter).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Clients, call, disconnected, joinAll, record, sorted, startSbNode, unique, waitClusterFormed, waitUntil,
} from './lib/cluster.mjs';
import { startNodePeer } from './lib/node-peer.mjs';
import { numsub, redisCommand, startRedis } from './lib/redis-server.mjs';

function mixedSuite(mode) {
  const sharded = mode === 'redis-sharded';
  describe(`mixed cluster, ${mode}`, () => {
    let redis;
    let nodes = [];
    let skipReason = null;
    const clients = new Clients();

    before(async () => {
      redis = await startRedis();
      const sb = [];
      try {
        for (const id of [1, 2]) {
          // --redis-always-publish: Node.js nodes do not announce themselves (docs/cluster.md).
          sb.push(await startSbNode(redis, {
            nodeId: id, adapter: mode, args: ['--redis-requests-timeout-ms', '3000', '--redis-always-publish'],
          }));
        }
      } catch (e) {
        // Only the sharded adapter may be missing (delivered after the classic one).
        if (!sharded) throw e;
        skipReason = `switchboard --adapter redis-sharded did not start: ${e.message.split('\n')[0]}`;
        for (const s of sb) await s.stop({ expectCode: null });
        return;
      }
      if (sharded) {
        // Until src/adapter has the sharded variant, --adapter redis-sharded may start but speak
        // the classic protocol: tell the two apart by what the nodes subscribed.
        const spoken = await waitUntil(async () => {
          if ((await numsub(redis, 'socket.io-request#/#')) === sb.length) return 'classic';
          const r = await redisCommand(redis.port, ['PUBSUB', 'SHARDNUMSUB', 'socket.io#/#']);
          return Number(r[1]) === sb.length ? 'sharded' : false;
        }, { what: 'the Switchboard nodes subscribed (classic or sharded)' });
        if (spoken !== 'sharded') {
          skipReason = 'switchboard --adapter redis-sharded speaks the classic protocol: the sharded adapter is not delivered yet';
          nodes = sb;
          return;
        }
      }
      const peers = await Promise.all(['n1', 'n2'].map((name) =>
        startNodePeer({ redis: redis.url, adapter: mode, node: name, requestsTimeoutMs: 3000 })));
      // Order: sb1, n1, sb2, n2 — clients spread over them alternate kinds.
      nodes = [sb[0], peers[0], sb[1], peers[1]];
      await waitClusterFormed(redis, nodes, { sharded });
    });

    after(async () => {
      clients.closeAll();
      for (const n of nodes) await n.stop();
      await redis?.stop();
    });

    const it = (name, fn) => test(name, async (t) => {
      if (skipReason) return t.skip(skipReason);
      return fn(t);
    });

    // The sharded adapter (dynamic mode) SSUBSCRIBEs a room's channel when a node gets its first
    // member, without waiting for Redis: wait until every node with members has subscribed.
    async function roomReady(room, members) {
      if (!sharded) return;
      const want = new Set(members.map((c) => c.node)).size;
      await waitUntil(async () => {
        const r = await redisCommand(redis.port, ['PUBSUB', 'SHARDNUMSUB', `socket.io#/#${room}#`]);
        return Number(r[1]) === want;
      }, { what: `${want} subscribers of room ${room}` });
    }

    // n clients, client i on nodes[i % 4] (sb1, n1, sb2, n2), optionally joined to `room`.
    async function spread(n, { room } = {}) {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await clients.connect(nodes[i % nodes.length]));
      if (room) {
        await joinAll(out, room);
        await roomReady(room, out);
      }
      return out;
    }

    for (const [from, label] of [[0, 'Switchboard'], [1, 'Node.js']]) {
      it(`a room broadcast from a ${label} node reaches members on both kinds exactly once`, async () => {
        const room = unique('room');
        const cs = await spread(8, { room });
        const outsider = (await spread(4))[2];
        const recs = cs.map((c) => record(c, 'chat'));
        const ro = record(outsider, 'chat');
        const bin = Buffer.from([9, 8, 7, 0, 255]);
        cs[from].emit('chat', room, { text: `from ${label}`, bin, n: -3, f: 0.25, ok: true, none: null });
        cs[from].emit('chat', room, 'fence');
        for (const [i, r] of recs.entries()) {
          await r.waitCount(2);
          const v = r.values();
          assert.equal(v.length, 2, `client ${i} on ${cs[i].node.kind}:${cs[i].node.name}: ${JSON.stringify(v)}`);
          const { bin: b, ...rest } = v[0];
          assert.deepEqual(rest, { text: `from ${label}`, n: -3, f: 0.25, ok: true, none: null });
          assert.ok(Buffer.from(b).equals(bin), `binary intact on ${cs[i].node.kind}:${cs[i].node.name}`);
          assert.equal(v[1], 'fence');
        }
        await call(cs[from], 'bcast', { rooms: [outsider.id], event: 'chat', data: 'only you' });
        await ro.waitCount(1);
        assert.deepEqual(ro.values(), ['only you']);
      });

      it(`io.emit and except from a ${label} node`, async () => {
        const room = unique('room');
        const muted = unique('muted');
        const cs = await spread(4, { room });
        await joinAll([cs[2], cs[3]], muted); // one Switchboard, one Node.js client
        await roomReady(muted, [cs[2], cs[3]]);
        const ev = unique('ev');
        const recs = cs.map((c) => record(c, ev));
        await call(cs[from], 'bcast', { rooms: [room], except: [muted], event: ev, data: 'x' });
        await call(cs[from], 'bcast', { event: ev, data: 'all' });
        for (const [i, r] of recs.entries()) {
          await r.waitFor((v) => v.includes('all'));
          assert.deepEqual(r.values(), i >= 2 ? ['all'] : ['x', 'all'], `client ${i} on ${cs[i].node.kind}`);
        }
      });

      it(`fetchSockets from a ${label} node sees the other kind's sockets`, async () => {
        const room = unique('f');
        const cs = await spread(4, { room });
        const expected = sorted(cs.map((c) => ({ id: c.id, rooms: sorted([c.id, room]) })), (x) => x.id);
        assert.deepEqual(await call(cs[from], 'fetch', room), expected);
        assert.deepEqual(await call(cs[from], 'members', room), cs.map((c) => c.id).sort());
      });

      it(`a broadcast with ack from a ${label} node collects answers from both kinds`, async () => {
        const room = unique('q');
        const cs = await spread(4, { room });
        for (const c of cs) c.on('question', (cb) => cb({ from: c.id }));
        const r = await call(cs[from], 'ask-room', { room, timeout: 5000 });
        assert.equal(r.error, null);
        assert.deepEqual(sorted(r.responses), sorted(cs.map((c) => ({ from: c.id }))));
      });

      it(`serverSideEmit with ack from a ${label} node is answered by every other node`, async () => {
        const cs = await spread(4);
        const asker = cs[from];
        const r = await call(asker, 'sse', { event: 'ping-sse', args: ['hello', 7], ack: true });
        assert.equal(r.error, null, JSON.stringify(r));
        const names = nodes.filter((n) => n !== asker.node).map((n) => n.name);
        assert.deepEqual(sorted(r.responses, (x) => x.node), sorted(names.map((node) => ({ node, got: ['hello', 7] })), (x) => x.node));
        // Without ack: the other nodes' clients see it, the emitting node's do not.
        const recs = cs.map((c) => record(c, 'sse'));
        const tag = unique('shout');
        await call(asker, 'sse', { event: 'shout', args: [tag] });
        for (const [i, rec] of recs.entries()) {
          if (i === from) continue;
          await rec.waitFor((v) => v.some((x) => x.args[0] === tag));
        }
        await call(cs[(from + 1) % 4], 'sse', { event: 'shout', args: ['fence'] });
        await recs[from].waitCount(1);
        assert.deepEqual(recs[from].values().map((x) => x.args[0]), ['fence']);
      });

      it(`socketsJoin and disconnectSockets from a ${label} node act on both kinds`, async () => {
        const room = unique('sj');
        const joined = unique('sj-new');
        const cs = await spread(4, { room });
        await call(cs[from], 'sockets-join', { in: room, rooms: [joined] });
        await waitUntil(async () => (await call(cs[from], 'count', joined)) === 4, { what: `4 sockets in ${joined}` });
        await roomReady(joined, cs);
        const ev = unique('ev');
        const recs = cs.map((c) => record(c, ev));
        await call(cs[(from + 1) % 4], 'bcast', { rooms: [joined], event: ev, data: 1 });
        for (const r of recs) await r.waitCount(1);
        const reasons = Promise.all(cs.filter((_, i) => i !== from).map((c) => disconnected(c)));
        await call(cs[from], 'disconnect-sockets', { in: joined, except: [cs[from].id] });
        assert.deepEqual(await reasons, ['io server disconnect', 'io server disconnect', 'io server disconnect']);
        assert.ok(cs[from].connected);
      });

      it(`RemoteSocket operations from a ${label} node on the other kind's sockets`, async () => {
        const cs = await spread(4);
        const other = cs[from === 0 ? 1 : 0]; // a client of the other kind
        const extra = unique('rs');
        assert.equal(await call(cs[from], 'remote', { in: other.id, op: 'join', room: extra }), 1);
        await waitUntil(async () => (await call(cs[from], 'count', extra)) === 1, { what: `${other.id} in ${extra}` });
        const ev = unique('ev');
        const rec = record(other, ev);
        // 1: the remote socket was found (a lost FETCH_SOCKETS answer shows here, not as a wait).
        assert.equal(await call(cs[from], 'remote', { in: other.id, op: 'emit', event: ev, data: [1, 'two'] }), 1);
        await rec.waitCount(1);
        assert.deepEqual(rec.values(), [[1, 'two']]);
        const gone = disconnected(other);
        await call(cs[from], 'remote', { in: other.id, op: 'disconnect' });
        assert.equal(await gone, 'io server disconnect');
      });
    }

    it('serverCount agrees on both kinds; whoami names the node', async () => {
      const cs = await spread(2);
      assert.deepEqual(await call(cs[0], 'whoami'), { id: cs[0].id, node: nodes[0].name });
      assert.deepEqual(await call(cs[1], 'whoami'), { id: cs[1].id, node: nodes[1].name });
      assert.equal(await call(cs[0], 'server-count'), 4);
      assert.equal(await call(cs[1], 'server-count'), 4);
    });

    if (!sharded) {
      it('allRooms (classic only) spans both kinds', async () => {
        const cs = await spread(2);
        const r0 = unique('ar');
        const r1 = unique('ar');
        await joinAll([cs[0]], r0);
        await joinAll([cs[1]], r1);
        for (const asker of cs) {
          const rooms = await call(asker, 'all-rooms');
          assert.ok(rooms.includes(r0) && rooms.includes(r1), `${asker.node.kind}: ${JSON.stringify(rooms.filter((r) => r.startsWith('ar-')))}`);
        }
      });
    }
  });
}

mixedSuite('redis');
mixedSuite('redis-sharded');
