// `switchboard bench polling` (Engine.IO long-polling clients: a GET always pending, emits by
// POST, two keep-alive connections per client) against `serve --app bench` and against the
// Node.js Socket.IO baseline (bench/baseline/server.mjs): every message sent in the window
// reaches every member exactly as often as it should, nothing foreign arrives, and the JSON
// carries the figures bench/run reads. Small N, short and bounded; never a speed threshold.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runBench, startBaseline } from './lib/bench.mjs';
import { startServer } from './lib/server.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-poll-'));

async function runJson(name, args) {
  const json = path.join(tmp, `${name}.json`);
  const r = await runBench([...args, '--json', json], 30_000);
  assert.equal(r.code, 0, `bench exited ${r.code ?? r.signal}\n${r.out}\n${r.err}`);
  return { j: JSON.parse(fs.readFileSync(json, 'utf8')), out: r.out };
}

function assertNoLoss(j, clients) {
  assert.equal(j.scenario, 'polling');
  assert.equal(j.unit, 'deliveries');
  assert.equal(j.clients.connected, clients, 'every client connected');
  assert.equal(j.clients.failed, 0);
  assert.equal(j.clients.lost_during_run, 0, JSON.stringify(j.clients.failures));
  assert.ok(j.messages_sent > 0, 'messages were sent in the window');
  assert.ok(j.deliveries > 0, 'deliveries were counted');
  assert.equal(j.expected_deliveries, j.messages_sent * clients);
  assert.equal(j.deliveries, j.expected_deliveries, 'deliveries == expected');
  assert.equal(j.lost, 0);
  assert.equal(j.unstamped, 0, 'nothing but our messages arrived');
  assert.equal(j.stale_own, 0);
  assert.equal(j.latency_ms.count, j.deliveries, 'a latency per delivery');
  for (const k of ['p50', 'p90', 'p99', 'p99.9', 'max']) {
    assert.ok(Number.isFinite(j.latency_ms[k]) && j.latency_ms[k] > 0, `latency ${k}`);
  }
  assert.ok(j.deliveries_per_s > 0);
}

for (const kind of ['switchboard', 'node']) {
  describe(`switchboard bench polling against ${kind}`, () => {
    let target;
    before(async () => {
      if (kind === 'switchboard') {
        const s = await startServer(['--app', 'bench', '--threads', '1', '--log-level', 'warn']);
        target = { port: s.port, pid: s.proc.pid, stop: () => s.stop() };
      } else {
        target = await startBaseline();
      }
    });
    after(async () => {
      await target?.stop();
    });

    test('closed loop: every member receives every broadcast through its pending GET', async () => {
      const clients = 20;
      const { j, out } = await runJson(`closed-${kind}`, ['polling', '--target',
        `http://127.0.0.1:${target.port}`, '--clients', clients, '--senders', 2, '--duration', 1,
        '--warmup', 0.3, '--drain', 10, '--pids', target.pid]);
      assertNoLoss(j, clients);
      assert.ok(j.target_cpu_seconds > 0, 'the target was sampled');
      assert.ok(j.deliveries_per_target_cpu_second > 0);
      assert.ok(j.targets[0].rss_end > 0);
      assert.match(out, /== polling → /);
    });

    test('fixed rate in a named room, two generator threads: emits batched per POST', async () => {
      // 3 senders × 100 msg/s from a 10 ms tick: several emits queue while a POST is out and
      // leave \x1e-joined in the next one.
      const clients = 24;
      const { j } = await runJson(`rate-${kind}`, ['polling', '--target',
        `http://127.0.0.1:${target.port}/socket.io/`, '--clients', clients, '--senders', 3,
        '--rate', 300, '--room', 'poll-room', '--threads', 2, '--duration', 1, '--warmup', 0.3,
        '--drain', 10]);
      assertNoLoss(j, clients);
      assert.equal(j.config.room, 'poll-room');
      assert.equal(j.config.threads, 2);
    });
  });
}

test('a target that does not speak Engine.IO polling fails the handshake cleanly', async () => {
  const s = await startServer(['--app', 'bench', '--threads', '1', '--log-level', 'warn']);
  try {
    const r = await runBench(['polling', '--target', `http://127.0.0.1:${s.port}/raw/echo`,
      '--clients', 3, '--duration', 0.2, '--warmup', 0, '--handshake-timeout-ms', 2000]);
    assert.equal(r.code, 1, `no client connected → exit 1\n${r.out}\n${r.err}`);
    assert.match(r.out, /3 failed/);
  } finally {
    await s.stop();
  }
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));
