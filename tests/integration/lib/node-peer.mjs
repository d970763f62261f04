// Starts and stops a Node.js Socket.IO node (peers/node-sio.mjs: socket.io 4.8 +
// @socket.io/redis-adapter 8.3) for mixed-cluster tests. Same shape as lib/server.mjs's
// startServer: resolves with { port, proc, stop(), kill(), exited, stdoutText(), stderrText() }
// once the peer printed its `listening on` line.
//
// The peer exits by itself when our end of its stdin closes, so a test process that dies takes
// its peers with it; its command line carries "switchboard-test" for scripts/test's sweep.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './server.mjs';

export const peerScript = path.join(repoRoot, 'tests/integration/peers/node-sio.mjs');

const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {}
  }
});

function pidFile(pid) {
  return process.env.SB_PIDS_DIR ? path.join(process.env.SB_PIDS_DIR, String(pid)) : null;
}

/**
 * Starts a Node.js Socket.IO node. `adapter`: memory | redis | redis-sharded; `redis`: its URL;
 * `key`: the adapter key / channel prefix; `node`: a name it reports (whoami, ping-sse answers).
 */
export async function startNodePeer({
  redis,
  adapter = 'redis',
  key = 'socket.io',
  node = 'node',
  subscriptionMode,
  requestsTimeoutMs,
  readyTimeoutMs = 15_000,
} = {}) {
  const argv = [peerScript, '--port', '0', '--adapter', adapter, '--key', key, '--node', node];
  if (redis) argv.push('--redis', redis);
  if (subscriptionMode) argv.push('--subscription-mode', subscriptionMode);
  if (requestsTimeoutMs) argv.push('--requests-timeout-ms', String(requestsTimeoutMs));
  argv.push('--switchboard-test-peer');
  const proc = spawn(process.execPath, argv, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(proc);
  const pf = pidFile(proc.pid);
  if (pf) fs.writeFileSync(pf, '');
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    err += d;
    if (err.length > 1 << 20) err = err.slice(-(1 << 19));
  });
  proc.stdin.on('error', () => {}); // EPIPE once the peer is gone
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      if (pf) fs.rmSync(pf, { force: true });
      resolve({ code, signal });
    });
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`node peer did not listen within ${readyTimeoutMs} ms\nstderr:\n${err}`)),
      readyTimeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on ([\d.]+):(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ host: m[1], port: Number(m[2]) });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`node peer exited (code ${code}, signal ${signal}) before listening\nstderr:\n${err}`));
    });
  });
  let addr;
  try {
    addr = await ready;
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  const peer = {
    ...addr,
    kind: 'node',
    name: node,
    proc,
    exited,
    stdoutText: () => out,
    stderrText: () => err,
    get running() {
      return proc.exitCode === null && proc.signalCode === null;
    },
    async kill(signal = 'SIGKILL') {
      if (peer.running) proc.kill(signal);
      await exited;
    },
    /** SIGTERM, then waits (up to timeoutMs) for a clean exit; throws if it was not clean. */
    async stop({ timeoutMs = 10_000 } = {}) {
      if (!peer.running) return;
      proc.kill('SIGTERM');
      let timer;
      const res = await Promise.race([
        exited,
        new Promise((r) => {
          timer = setTimeout(() => r(null), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (res === null) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`node peer did not exit within ${timeoutMs} ms of SIGTERM\nstderr:\n${err.slice(-4000)}`);
      }
      if (res.code !== 0) throw new Error(`node peer exited with ${res.code}/${res.signal}\nstderr:\n${err.slice(-4000)}`);
    },
  };
  return peer;
}
