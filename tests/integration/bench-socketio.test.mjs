// `switchboard bench` Socket.IO scenarios against `serve --app bench` and against the Node.js
// Socket.IO baseline (bench/baseline/server.mjs): a correctness check of the generator and of
// both targets — every message sent in the window is received as often as it should be (none
// lost, none foreign), and the JSON says so. Small N, short and bounded; never a speed threshold.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runBench, startBaseline } from './lib/bench.mjs';
import { startServer } from './lib/server.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-sio-'));

async function runJson(name, args) {
  const json = path.join(tmp, `${name}.json`);
  const r = await runBench([...args, '--json', json]);
  assert.equal(r.code, 0, `bench exited ${r.code ?? r.signal}\n${r.out}\n${r.err}`);
  return { j: JSON.parse(fs.readFileSync(json, 'utf8')), out: r.out };
}

function assertNoLoss(j, { clients, perMessage }) {
  assert.equal(j.clients.connected, clients, 'every client connected');
  assert.equal(j.clients.failed, 0);
  assert.equal(j.clients.lost_during_run, 0);
  assert.ok(j.messages_sent > 0, 'messages were sent in the window');
  assert.equal(j.expected_deliveries, j.messages_sent * perMessage);
  assert.equal(j.deliveries, j.expected_deliveries, 'deliveries == expected');
  assert.equal(j.lost, 0);
  assert.equal(j.unstamped, 0, 'nothing but our messages arrived');
  assert.equal(j.stale_own, 0);
  assert.equal(j.latency_ms.count, j.deliveries, 'a latency per delivery');
}

for (const kind of ['switchboard', 'node']) {
  describe(`switchboard bench (Socket.IO) against ${kind}`, () => {
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

    test('fanout at a fixed rate: every member receives every broadcast', async () => {
      const clients = 30;
      const { j } = await runJson(`fanout-rate-${kind}`, ['fanout', '--target',
        `http://127.0.0.1:${target.port}`, '--clients', clients, '--senders', 3, '--rate', 60,
        '--duration', 1, '--warmup', 0.3, '--drain', 10, '--pids', target.pid]);
      assert.equal(j.scenario, 'fanout');
      assertNoLoss(j, { clients, perMessage: clients });
      assert.ok(j.target_cpu_seconds >= 0);
      assert.ok(j.targets[0].rss_connected > 0, 'the target was sampled');
      // By default the latency runs to the kernel's receive time at the client socket.
      assert.equal(j.config.latency_to, 'kernel-receive');
      assert.ok(j.latency_ms.p50 > 0 && j.latency_ms.p50 <= j.latency_ms.max);
      // The kernel gave a receive time (a delivery without one is timed at the read and counted).
      assert.ok(j.latency_read_timed < j.deliveries / 2,
        `${j.latency_read_timed} of ${j.deliveries} deliveries had no kernel receive time`);
    });

    test('fanout closed loop in a named room with two generator threads', async () => {
      const clients = 20;
      const { j } = await runJson(`fanout-closed-${kind}`, ['fanout', '--target',
        `ws://127.0.0.1:${target.port}/socket.io/`, '--clients', clients, '--senders', 2,
        '--window', 2, '--room', 'bench-room', '--threads', 2, '--duration', 0.5,
        '--warmup', 0.2, '--drain', 10]);
      assertNoLoss(j, { clients, perMessage: clients });
    });

    test('echo: one ack per emit, a window of emits per client', async () => {
      const clients = 25;
      const { j, out } = await runJson(`echo-${kind}`, ['echo', '--target',
        `http://127.0.0.1:${target.port}`, '--clients', clients, '--window', 3, '--duration', 1,
        '--warmup', 0.3, '--drain', 10, '--pids', target.pid, '--read-time']);
      assert.equal(j.unit, 'acks');
      assert.equal(j.config.latency_to, 'read');
      assert.equal(j.latency_read_timed, j.deliveries, 'every ack timed at the read');
      assertNoLoss(j, { clients, perMessage: 1 });
      assert.match(out, /latency ms\s+p50/);
    });

    test('connect: stepped, memory sampled after each step', async () => {
      const { j } = await runJson(`connect-${kind}`, ['connect', '--target',
        `http://127.0.0.1:${target.port}`, '--clients', 120, '--steps', 3, '--pids', target.pid]);
      assert.equal(j.clients.connected, 120);
      assert.equal(j.clients.failed, 0);
      assert.deepEqual(j.connect_steps.map((s) => s.connected), [40, 80, 120]);
      assert.ok(j.connect_steps.every((s) => s.target_rss > 0));
      assert.ok(j.clients.connect_rate_per_s > 0);
    });
  });
}

test('a target that is not Socket.IO fails the handshake cleanly', async () => {
  const s = await startServer(['--app', 'bench', '--threads', '1', '--log-level', 'warn']);
  try {
    const r = await runBench(['echo', '--target', `ws://127.0.0.1:${s.port}/raw/echo`, '--clients', 3,
      '--duration', 0.2, '--warmup', 0, '--handshake-timeout-ms', 2000]);
    assert.equal(r.code, 1, `no client connected → exit 1\n${r.out}\n${r.err}`);
  } finally {
    await s.stop();
  }
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));
