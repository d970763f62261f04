// Redis killed (SIGKILL, no goodbye) and restarted on the same port while two Switchboard nodes
// carry traffic: no crash, delivery between clients of one node never stops, /readyz answers
// 503 "redis disconnected" during the outage and 200 after it, cross-node delivery resumes by
// itself (subscriptions restored on the fresh Redis), and /metrics shows the outage.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  Clients, call, joinAll, metricSum, readyz, record, startSbNode, unique, waitClusterFormed, waitUntil,
} from './lib/cluster.mjs';
import { startRedis } from './lib/redis-server.mjs';
import { assertHealthy } from './lib/server.mjs';

let redis;
let nodes = [];
const clients = new Clients();

before(async () => {
  redis = await startRedis();
  // A short requests timeout: a fetchSockets during the outage waits for it.
  nodes = await Promise.all([1, 2].map((id) =>
    startSbNode(redis, { nodeId: id, args: ['--redis-requests-timeout-ms', '1500'] })));
  await waitClusterFormed(redis, nodes);
});

after(async () => {
  clients.closeAll();
  for (const n of nodes) await n.stop();
  await redis?.stop();
});

// A message from `sender` to `room` that `receiver` gets; retried (new text each time) until it
// arrives, since messages published before the subscriptions are back are lost by design.
async function crossNodeDelivery(sender, receiver, room, what) {
  const rec = record(receiver, 'chat');
  let n = 0;
  await waitUntil(() => {
    sender.emit('chat', room, `${what}-${n++}`);
    return rec.values().some((v) => typeof v === 'string' && v.startsWith(`${what}-`));
  }, { timeoutMs: 20_000, intervalMs: 100, what });
}

test('Redis outage: local delivery continues, readiness and metrics follow, the cluster heals', async () => {
  const [A, B] = nodes;
  const room = unique('room');
  const a1 = await clients.connect(A);
  const a2 = await clients.connect(A, { transports: ['polling'] });
  const b1 = await clients.connect(B);
  await joinAll([a1, a2, b1], room);
  await crossNodeDelivery(a1, b1, room, 'before');
  for (const n of nodes) {
    assert.equal(await metricSum(n, /^sb_redis_connected$/), 2, `node ${n.name}: publisher and subscriber up`);
    assert.equal(await metricSum(n, /^sb_redis_disconnects_total$/), 0);
  }

  // Traffic during the kill: a bounded burst from each node.
  const burst = (c, tag) => {
    for (let i = 0; i < 50; i++) c.emit('chat', room, `${tag}-${i}`);
  };
  burst(a1, 'burst-a');
  burst(b1, 'burst-b');
  await redis.kill('SIGKILL');

  for (const n of nodes) {
    await waitUntil(async () => (await readyz(n)).status === 503, { timeoutMs: 15_000, what: `/readyz 503 on node ${n.name}` });
    assert.deepEqual(await readyz(n), { status: 503, body: 'redis disconnected' });
    await assertHealthy(n.port);
    await waitUntil(async () => (await metricSum(n, /^sb_redis_connected$/)) === 0, { what: `sb_redis_connected 0 on node ${n.name}` });
  }

  // Local delivery is unbroken while Redis is down: a1 → a2 on node A, both transports.
  const ra2 = record(a2, 'chat');
  const rb1 = record(b1, 'chat');
  for (let i = 0; i < 20; i++) a1.emit('chat', room, `during-${i}`);
  await ra2.waitFor((v) => v.filter((x) => String(x).startsWith('during-')).length === 20, 'all 20 local messages on A');
  const during = ra2.values().filter((x) => String(x).startsWith('during-'));
  assert.deepEqual(during, Array.from({ length: 20 }, (_, i) => `during-${i}`), 'in order, once each');
  // B's members get their own node's messages too.
  const rb1self = record(b1, 'chat');
  b1.emit('chat', room, 'b-local');
  await rb1self.waitFor((v) => v.includes('b-local'), 'b-local on B');
  // Requests get what this node knows (its own sockets) once the requests timeout passed.
  assert.equal(await call(a1, 'count', room), 2, 'fetchSockets during the outage: the local sockets');

  await redis.restart();
  for (const n of nodes) {
    await waitUntil(async () => (await readyz(n)).status === 200, { timeoutMs: 20_000, what: `/readyz 200 on node ${n.name}` });
  }
  await waitClusterFormed(redis, nodes, { timeoutMs: 20_000 });
  await crossNodeDelivery(a1, b1, room, 'after-a');
  await crossNodeDelivery(b1, a2, room, 'after-b');
  // Nothing sent during the outage was delivered twice.
  for (const r of [ra2, rb1]) {
    const counts = new Map();
    for (const v of r.values()) counts.set(JSON.stringify(v), (counts.get(JSON.stringify(v)) ?? 0) + 1);
    for (const [k, c] of counts) assert.equal(c, 1, `${k} delivered ${c} times`);
  }
  assert.equal(await call(b1, 'count', room), 3, 'fetchSockets spans both nodes again');

  for (const n of nodes) {
    await assertHealthy(n.port);
    assert.equal(await metricSum(n, /^sb_redis_connected$/), 2, `node ${n.name}: both connections back`);
    assert.ok((await metricSum(n, /^sb_redis_disconnects_total$/)) >= 2, `node ${n.name}: both losses counted`);
    assert.ok((await metricSum(n, /^sb_redis_connects_total$/)) >= 4, `node ${n.name}: both reconnects counted`);
    assert.equal(await metricSum(n, /^sb_adapter_decode_errors_total$/), 0);
  }
});
