// Helpers for the sticky load-balancer tests (lb-*.test.mjs, sticky-*.test.mjs): start
// `switchboard lb`, HAProxy and nginx as our own processes on free loopback ports, and drive
// official socket.io-client instances from chosen loopback source addresses.
//
// Not a test file itself (no .test.mjs suffix): node --test does not run it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { binary, repoRoot, startServer } from './server.mjs';

const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {}
  }
});

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls `fn` until it returns a truthy value (or throws past `timeoutMs`). */
export async function waitFor(fn, { timeoutMs = 15_000, intervalMs = 50, what = 'condition' } = {}) {
  const t0 = Date.now();
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Starts N `switchboard serve` nodes with node ids 1..N (the conformance app). */
export async function startNodes(n, extra = []) {
  const nodes = [];
  for (let i = 1; i <= n; ++i) {
    const s = await startServer(['--threads', '1', '--node-id', String(i), '--app', 'conformance',
      '--ping-interval-ms', '1000', '--ping-timeout-ms', '5000',
      ...extra]);
    s.nodeId = i;
    s.addr = `127.0.0.1:${s.port}`;
    nodes.push(s);
  }
  return nodes;
}

// Spawns a process and resolves when `readyRe` matches its stdout (or `readyFn` says so).
function spawnProc(cmd, argv, { readyRe = null, readyFn = null, timeoutMs = 10_000, cwd } = {}) {
  const proc = spawn(cmd, argv, { cwd: cwd ?? repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => {
    err += d;
    if (err.length > 1 << 20) err = err.slice(-(1 << 19));
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    live.delete(proc);
    resolve({ code, signal });
  }));
  const handle = {
    proc,
    exited,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const r = await Promise.race([exited, new Promise((res) => setTimeout(() => res(null), 10_000).unref())]);
      if (r === null) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`${cmd} did not exit on SIGTERM\n${err.slice(-4000)}`);
      }
      // An ASan/UBSan build of the balancer reports on stderr (SB_BIN may point at one).
      if (/ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:/.test(err)) {
        throw new Error(`sanitizer report from ${cmd}:\n${err.slice(-8000)}`);
      }
      return r;
    },
  };
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready in ${timeoutMs} ms\n${out}\n${err}`)),
      timeoutMs);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited early (${code}/${signal})\n${out}\n${err}`));
    });
    const check = async () => {
      if (readyRe) {
        const m = out.match(readyRe);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
        return;
      }
      try {
        if (await readyFn()) {
          clearTimeout(timer);
          resolve(true);
          return;
        }
      } catch {}
      setTimeout(check, 50);
    };
    if (readyRe) proc.stdout.on('data', check);
    else check();
  });
  return { handle, ready };
}

/** `switchboard lb` in front of `nodes` (started on a free port). Waits until node ids are known. */
export async function startLb(nodes, mode, extra = []) {
  // Two loops: sessions' requests arrive on either, and the shared backend state must agree.
  const argv = ['lb', '--listen', '127.0.0.1:0', '--mode', mode, '--threads', '2', '--health-interval-ms', '200',
    '--fall', '2', '--rise', '1', ...extra];
  for (const n of nodes) argv.push('--backend', n.addr);
  const { handle, ready } = spawnProc(binary, argv, { readyRe: /listening on ([\d.]+):(\d+)/ });
  const m = await ready;
  handle.port = Number(m[2]);
  handle.url = `http://127.0.0.1:${handle.port}`;
  handle.backends = async () => (await httpGet(`${handle.url}/lb/backends`)).json();
  await waitFor(async () => (await handle.backends()).backends.every((b) => b.nodeId >= 0 && b.up),
    { what: 'lb to learn node ids' });
  return handle;
}

/** HAProxy with the generated deploy config; returns { cookieUrl, sourceUrl, stop }. */
export async function startHaproxy(nodes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-haproxy-'));
  const cookiePort = await freePort();
  const sourcePort = await freePort();
  const cfg = await genConfig(['haproxy', '--cookie-listen', `127.0.0.1:${cookiePort}`,
    '--source-listen', `127.0.0.1:${sourcePort}`, ...nodes.flatMap((n) => ['--backend', n.addr])]);
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, cfg);
  const { handle, ready } = spawnProc('/usr/sbin/haproxy', ['-db', '-f', file], {
    readyFn: async () => (await httpGet(`http://127.0.0.1:${cookiePort}/healthz`)).status === 200 &&
      (await httpGet(`http://127.0.0.1:${sourcePort}/healthz`)).status === 200,
  });
  await ready;
  handle.cookieUrl = `http://127.0.0.1:${cookiePort}`;
  handle.sourceUrl = `http://127.0.0.1:${sourcePort}`;
  const stop = handle.stop;
  handle.stop = async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return handle;
}

/** nginx with the generated deploy config (non-daemon, own prefix); returns { url, stop }. */
export async function startNginx(nodes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-nginx-'));
  const port = await freePort();
  const cfg = await genConfig(['nginx', '--listen', `127.0.0.1:${port}`,
    ...nodes.flatMap((n) => ['--backend', n.addr])]);
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, cfg);
  const { handle, ready } = spawnProc('/usr/sbin/nginx', ['-p', `${dir}/`, '-c', file, '-g',
    `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;`], {
    readyFn: async () => (await httpGet(`http://127.0.0.1:${port}/healthz`)).status === 200,
  });
  await ready;
  handle.url = `http://127.0.0.1:${port}`;
  handle.errorLog = () => fs.readFileSync(`${dir}/error.log`, 'utf8');
  const stop = handle.stop;
  handle.stop = async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return handle;
}

function genConfig(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(repoRoot, 'deploy/gen-config'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`gen-config: ${err}`))));
  });
}

/** A plain HTTP request (no keep-alive); resolves { status, headers, body, json() }. */
export function httpGet(url, { method = 'GET', headers = {}, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body,
        json: () => JSON.parse(body) }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout ${url}`)));
    req.end();
  });
}

/** The node id a Switchboard sid names (src/engineio/sid.h: bytes 1..2, big endian). */
export function nodeOfSid(sid) {
  const b = Buffer.from(sid, 'base64url');
  assert.equal(b.length, 15, `not a switchboard sid: ${sid}`);
  assert.equal(b[0], 0xb5, `not a switchboard sid: ${sid}`);
  return (b[1] << 8) | b[2];
}

/**
 * An http.Agent whose connections come from `addresses` in turn. With one address this pins the
 * client's source; with several, every new connection changes it (a roaming client).
 */
export function sourceAgent(addresses, { keepAlive = true } = {}) {
  const agent = new http.Agent({ keepAlive, maxSockets: 4 });
  let i = 0;
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (opts, cb) => create({ ...opts, localAddress: addresses[i++ % addresses.length] }, cb);
  return agent;
}

/**
 * Connects an official socket.io-client through `url` from `source` (a loopback address or a list of
 * them), does `rounds` acknowledged round trips (`message-with-ack`), spaced so that long-polling
 * cycles happen in between. Resolves { sid, node, transport, upgraded }; rejects on any error.
 */
export async function roundTrips(url, { source = '127.0.0.2', transports = ['polling', 'websocket'],
  rounds = 3, gapMs = 150, withCredentials = false, timeoutMs = 10_000, waitUpgrade = false,
  keepAlive = true } = {}) {
  const c = await connectClient(url, { source, transports, withCredentials, timeoutMs, waitUpgrade,
    keepAlive });
  try {
    for (let k = 0; k < rounds; ++k) {
      await c.ack({ k, text: `héllo ${k}` });
      await new Promise((r) => setTimeout(r, gapMs));
    }
    // Every request of the session carried the sid; a node that does not own it answers
    // "Session ID unknown" (the client would have disconnected). The sid never changes.
    assert.equal(c.socket.io.engine.id, c.sid);
    return { sid: c.sid, node: c.node, transport: c.socket.io.engine.transport.name };
  } finally {
    c.close();
  }
}

/**
 * A connected official socket.io-client (see roundTrips) that stays open:
 * { socket, sid, node, ack(payload) (asserts the echo), close() }.
 */
export async function connectClient(url, { source = '127.0.0.2', transports = ['polling', 'websocket'],
  withCredentials = false, timeoutMs = 10_000, waitUpgrade = false, keepAlive = true } = {}) {
  const sources = Array.isArray(source) ? source : [source];
  const agent = sourceAgent(sources, { keepAlive });
  const socket = io(url, {
    forceNew: true,
    reconnection: false,
    transports,
    agent,
    localAddress: sources[0],
    withCredentials,
    timeout: timeoutMs,
  });
  const failure = new Promise((_, reject) => {
    socket.on('connect_error', (e) => reject(new Error(`connect_error: ${e.message}`)));
    socket.on('disconnect', (reason) => reject(new Error(`disconnected: ${reason}`)));
  });
  failure.catch(() => {});
  const withTimeout = (p, what) => Promise.race([p, failure, new Promise((_, rej) => {
    setTimeout(() => rej(new Error(`timeout: ${what}`)), timeoutMs).unref();
  })]);
  try {
    await withTimeout(new Promise((r) => socket.on('connect', r)), 'connect');
    const sid = socket.io.engine.id;
    const node = nodeOfSid(sid);
    if (waitUpgrade && socket.io.engine.transport.name !== 'websocket') {
      await withTimeout(new Promise((r) => socket.io.engine.once('upgrade', r)), 'upgrade');
    }
    return {
      socket,
      sid,
      node,
      async ack(payload) {
        const got = await withTimeout(socket.emitWithAck('message-with-ack', payload), 'ack');
        assert.deepEqual(got, payload);
      },
      close() {
        socket.disconnect();
        agent.destroy();
      },
    };
  } catch (e) {
    socket.disconnect();
    agent.destroy();
    throw e;
  }
}

export { startServer };
