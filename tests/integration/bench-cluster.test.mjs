// `switchboard bench cluster` across two nodes on one real redis-server: two Switchboard nodes
// (`serve --app bench --adapter redis`), then two Node.js Socket.IO nodes on
// @socket.io/redis-adapter (bench/baseline/server.mjs --redis). Correctness only, never speed:
// every message sent in the window reaches every client on both nodes exactly once — none lost,
// none duplicated or reordered — and the deliveries are split into local and remote.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis } from './lib/redis-server.mjs';
import { startSbNode, waitClusterFormed } from './lib/cluster.mjs';
import { runBench, startBaseline } from './lib/bench.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-cluster-'));
let redis;

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function runCluster(nodes, name, extra) {
  const json = path.join(tmp, `${name}.json`);
  const clients = 60;
  const r = await runBench(['cluster', ...nodes.flatMap((n) => ['--target', `http://127.0.0.1:${n.port}`]),
    '--pids', nodes.map((n) => n.pid ?? n.proc.pid).join(','), '--clients', clients, '--duration', 1,
    '--warmup', 0.3, '--drain', 10, '--json', json, ...extra]);
  assert.equal(r.code, 0, `bench exited ${r.code ?? r.signal}\n${r.out}\n${r.err}`);
  const j = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.equal(j.scenario, 'cluster');
  assert.equal(j.nodes, 2);
  assert.equal(j.clients.connected, clients, 'every client connected');
  assert.equal(j.clients.failed, 0);
  assert.equal(j.clients.lost_during_run, 0);
  assert.ok(j.messages_sent > 0, 'messages were sent in the window');
  assert.equal(j.expected_deliveries, j.messages_sent * clients);
  assert.equal(j.lost, 0, `none lost\n${r.out}`);
  assert.equal(j.deliveries, j.expected_deliveries, 'exactly the expected deliveries');
  assert.equal(j.duplicates, 0, 'no duplicate or reordered delivery');
  assert.equal(j.gaps, 0, 'no sequence skipped');
  assert.equal(j.unstamped, 0);
  // The senders sit on node 1, the others round-robin (id % 2): both kinds are measured.
  const senders = j.config.senders;
  let remote = 0;
  for (let id = senders; id < clients; ++id) remote += id % 2;
  assert.equal(j.local.deliveries + j.remote.deliveries, j.deliveries);
  assert.equal(j.remote.deliveries, j.messages_sent * remote);
  assert.ok(j.remote.latency_ms.p50 > 0);
  assert.equal(j.targets.length, 2, 'both nodes sampled');
  assert.match(r.out, /exactly-once 0 duplicated or reordered, 0 skipped/);
  return j;
}

describe('bench cluster', () => {
  test('two Switchboard nodes on Redis: every delivery exactly once, local and remote', async () => {
    const nodes = await Promise.all([1, 2].map((nodeId) =>
      startSbNode(redis, { nodeId, args: ['--app', 'bench', '--log-level', 'warn'] })));
    try {
      await waitClusterFormed(redis, nodes);
      await runCluster(nodes, 'sb-closed', ['--senders', 2, '--window', 2]);
      await runCluster(nodes, 'sb-rate', ['--senders', 1, '--rate', 50]);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });

  test('two Node.js Socket.IO nodes on @socket.io/redis-adapter: every delivery exactly once', async () => {
    const nodes = await Promise.all([startBaseline(['--redis', redis.url]), startBaseline(['--redis', redis.url])]);
    try {
      await waitClusterFormed(redis, nodes);
      await runCluster(nodes, 'node-rate', ['--senders', 1, '--rate', 50]);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });

  test('several --target only for cluster', async () => {
    const r = await runBench(['fanout', '--target', 'http://127.0.0.1:1', '--target', 'http://127.0.0.1:2']);
    assert.equal(r.code, 2);
    assert.match(r.err, /only the cluster scenario/);
  });
});
