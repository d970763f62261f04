// `switchboard cluster`: one command starts redis-server, N nodes with the Redis adapter and the
// balancer, prints the URL and the node table, and stops everything on SIGTERM. Checked with the
// official socket.io-client through the printed URL: clients land on different nodes (the chat
// app's `whoami` names the node), a room message crosses nodes exactly once, a dead node or Redis
// is reported while the cluster keeps running, and no child outlives the command — not even when
// it is killed with SIGKILL (PR_SET_PDEATHSIG).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { io } from 'socket.io-client';
import { nodeOfSid } from './lib/lb.mjs';
import { freePort } from './lib/redis-server.mjs';
import { binary, repoRoot, waitUntil } from './lib/server.mjs';

const kTimeout = 20_000;

// A process that is gone, or a zombie nobody reaped yet (an orphan re-parented to a reaper).
function gone(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/**
 * Runs `switchboard cluster ...args` and resolves once it printed "cluster ready at URL".
 * Returns { proc, url, rows: [{ role, node, addr, pid }], stdout(), stderr(), exited, pids() }.
 */
async function startCluster(args) {
  const proc = spawn(binary, ['cluster', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const pidFile = process.env.SB_PIDS_DIR ? path.join(process.env.SB_PIDS_DIR, String(proc.pid)) : null;
  if (pidFile) fs.writeFileSync(pidFile, '');
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => {
    err += d;
    if (err.length > 1 << 20) err = err.slice(-(1 << 19));
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    if (pidFile) fs.rmSync(pidFile, { force: true });
    resolve({ code, signal });
  }));
  const c = { proc, exited, stdout: () => out, stderr: () => err };
  process.on('exit', () => proc.kill('SIGKILL'));
  try {
    await waitUntil(() => {
      if (proc.exitCode !== null) throw new Error(`cluster exited ${proc.exitCode}`);
      return /cluster ready at (http:\/\/\S+?)\/? /.test(out);
    }, { timeoutMs: 30_000, what: 'the cluster to be ready' });
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\nstdout:\n${out}\nstderr:\n${err.slice(-4000)}`);
  }
  c.url = out.match(/cluster ready at (http:\/\/\S+?)\/? /)[1];
  c.rows = [...out.matchAll(/^ {2}(lb|node|redis)\s+(\S+)\s+(\S+)\s+(\d+)$/gm)]
    .map((m) => ({ role: m[1], node: m[2], addr: m[3], pid: Number(m[4]) }));
  c.pids = () => c.rows.map((r) => r.pid);
  return c;
}

/** Connects through the balancer; resolves { socket, sid, node } once whoami answered. */
async function connect(url, transports, open) {
  const socket = io(url, { forceNew: true, reconnection: false, transports, timeout: kTimeout });
  open.push(socket);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const who = await socket.timeout(kTimeout).emitWithAck('whoami');
  assert.equal(who.id, socket.id);
  const sid = socket.io.engine.id;
  // The node that answers is the node the sid names: every request of the session reached it.
  assert.equal(Number(who.node), nodeOfSid(sid), `whoami ${JSON.stringify(who)} vs sid ${sid}`);
  return { socket, sid, node: who.node };
}

function record(socket) {
  const got = [];
  socket.on('chat', (m) => got.push(m));
  return got;
}

test('switchboard cluster: clients land on different nodes, chat crosses nodes once, SIGTERM stops all', async () => {
  const port = await freePort();
  const cluster = await startCluster(['--nodes', '3', '--port', String(port)]);
  const open = [];
  try {
    assert.equal(cluster.url, `http://127.0.0.1:${port}`);
    const nodes = cluster.rows.filter((r) => r.role === 'node');
    assert.deepEqual(nodes.map((r) => r.node), ['1', '2', '3'], cluster.stdout());
    assert.equal(cluster.rows.filter((r) => r.role === 'lb').length, 1);
    assert.equal(cluster.rows.filter((r) => r.role === 'redis').length, 1);

    // A polling-only client and two default ones (polling, then the WebSocket upgrade).
    const a = await connect(cluster.url, ['polling'], open);
    const b = await connect(cluster.url, ['polling', 'websocket'], open);
    const c = await connect(cluster.url, ['polling', 'websocket'], open);
    // Handshakes go to the least-loaded node: three clients, three nodes.
    assert.equal(new Set([a.node, b.node, c.node]).size, 3, `nodes ${a.node} ${b.node} ${c.node}`);

    const room = `cmd-${process.pid}`;
    for (const x of [a, b, c]) assert.equal(await x.socket.timeout(kTimeout).emitWithAck('join', room), room);
    const got = [a, b, c].map((x) => record(x.socket));
    a.socket.emit('chat', { room, text: 'hello from a' });
    c.socket.emit('chat', { room, text: 'marker from c' });
    // Every member gets both (the marker is sent after the first message: once it has arrived at
    // a client, a duplicate of the first would have arrived before it).
    await waitUntil(() => got.every((g) => g.some((m) => m.text === 'marker from c')),
      { timeoutMs: kTimeout, what: 'the marker on every client' });
    await waitUntil(() => got.every((g) => g.some((m) => m.text === 'hello from a')),
      { timeoutMs: kTimeout, what: 'the message on every client' });
    for (const g of got) {
      assert.equal(g.filter((m) => m.text === 'hello from a').length, 1, JSON.stringify(g));
      assert.deepEqual(g.find((m) => m.text === 'hello from a'), { room, text: 'hello from a', from: a.socket.id });
    }

    // A node dies: reported on stderr, the cluster keeps running, the others keep chatting.
    const victim = nodes.find((r) => r.node === c.node);
    process.kill(victim.pid, 'SIGKILL');
    await waitUntil(() => new RegExp(`node ${c.node} \\(pid ${victim.pid}, [^)]*\\) was killed by signal 9`)
      .test(cluster.stderr()), { timeoutMs: kTimeout, what: 'the dead node reported' });
    assert.equal(cluster.proc.exitCode, null, 'the cluster keeps running');
    b.socket.emit('chat', { room, text: 'after the death' });
    await waitUntil(() => got[0].some((m) => m.text === 'after the death'),
      { timeoutMs: kTimeout, what: 'chat between the live nodes' });
  } finally {
    for (const s of open) s.disconnect();
    const t0 = Date.now();
    cluster.proc.kill('SIGTERM');
    const res = await Promise.race([cluster.exited,
      new Promise((r) => setTimeout(() => r(null), 30_000).unref())]);
    if (res === null) cluster.proc.kill('SIGKILL');
    assert.deepEqual(res, { code: 0, signal: null }, cluster.stderr().slice(-4000));
    assert.ok(Date.now() - t0 < 30_000);
  }
  // Everything it started was stopped and reaped by it before it exited.
  for (const pid of cluster.pids()) assert.ok(gone(pid), `pid ${pid} still running`);
  assert.match(cluster.stderr(), /cluster: stopped/);
});

test('switchboard cluster: a dead Redis is reported; SIGKILL of the command leaves no child', async () => {
  const cluster = await startCluster(['--nodes', '2', '--port', '0']);
  let pids = [];
  try {
    pids = cluster.pids();
    assert.equal(pids.length, 4, cluster.stdout());
    assert.ok(pids.every((p) => !gone(p)));
    const redis = cluster.rows.find((r) => r.role === 'redis');
    process.kill(redis.pid, 'SIGKILL');
    await waitUntil(() => /redis-server \(pid \d+, [^)]*\) was killed by signal 9/.test(cluster.stderr()),
      { timeoutMs: kTimeout, what: 'the dead Redis reported' });
    assert.equal(cluster.proc.exitCode, null, 'the cluster keeps running without Redis');
  } finally {
    // No clean-up by the command: its children must go by themselves (PR_SET_PDEATHSIG).
    cluster.proc.kill('SIGKILL');
    await cluster.exited;
  }
  await waitUntil(() => pids.every(gone), { timeoutMs: kTimeout, what: `children ${pids} to exit` });
});

test('switchboard cluster: a busy port fails fast with exit 1 and stops what it started', async () => {
  const { default: net } = await import('node:net');
  const blocker = net.createServer();
  await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
  const port = blocker.address().port;
  try {
    const proc = spawn(binary, ['cluster', '--nodes', '1', '--port', String(port)],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    proc.stderr.on('data', (d) => (err += d));
    proc.stdout.on('data', (d) => (out += d));
    const res = await new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    assert.deepEqual(res, { code: 1, signal: null }, err);
    assert.doesNotMatch(out, /cluster ready/);
    assert.match(err, /the balancer \(pid \d+\) exited with code 1 during start-up/);
  } finally {
    blocker.close();
  }
});
