// A real `redis-server` for the cluster tests: started on a free loopback port with no
// persistence, stopped by PID, restarted on the same port (an outage the nodes must survive).
//
//   const redis = await startRedis();          // { port, url, pid, ... }
//   await redis.command('PUBSUB', 'NUMSUB', 'socket.io-request#/#');
//   await redis.kill();  ...  await redis.restart();
//   await redis.stop();
//
// The process title carries "switchboard-test" so that scripts/test's leftover sweep (which only
// kills processes whose command line names switchboard) also catches a redis-server left behind
// by a crashed test file; like lib/server.mjs, each PID is recorded in $SB_PIDS_DIR while it runs.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

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

/** A port that was free a moment ago (the kernel's pick for port 0 on 127.0.0.1). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// --- a tiny RESP2 client: one command per connection, enough for probes in tests ---

function parseReply(buf, pos = 0) {
  if (pos >= buf.length) return null;
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.subarray(next, next + n).toString('utf8'), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const out = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, p);
        if (!r) return null;
        out.push(r.value);
        p = r.end;
      }
      return { value: out, end: p };
    }
    default:
      throw new Error(`bad RESP type byte ${JSON.stringify(type)}`);
  }
}

function encodeCommand(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = Buffer.from(String(a));
    out += `$${s.length}\r\n${s.toString('binary')}\r\n`;
  }
  return Buffer.from(out, 'binary');
}

/**
 * Sends one command to 127.0.0.1:port and resolves with the decoded reply (an Error object for a
 * Redis error reply). Rejects on connection failure or after `timeoutMs`.
 */
export function redisCommand(port, args, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`redis ${args[0]} on port ${port}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('connect', () => sock.write(encodeCommand(args)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parseReply(buf);
      if (r) {
        clearTimeout(timer);
        sock.destroy();
        resolve(r.value);
      }
    });
  });
}

async function waitForPong(port, proc, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) return false;
    try {
      if ((await redisCommand(port, ['PING'], { timeoutMs: 1000 })) === 'PONG') return true;
    } catch {}
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function spawnRedis(port) {
  const argv = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--loglevel', 'warning',
    '--proc-title-template', '{title} {listen-addr} switchboard-test',
  ];
  const proc = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  const pf = pidFile(proc.pid);
  if (pf) fs.writeFileSync(pf, '');
  let log = '';
  const keep = (d) => {
    log += d;
    if (log.length > 65536) log = log.slice(-32768);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      if (pf) fs.rmSync(pf, { force: true });
      resolve({ code, signal });
    });
  });
  proc.on('error', (e) => keep(`spawn error: ${e.message}\n`));
  return { proc, exited, log: () => log };
}

/**
 * Starts redis-server on `port` (default: a free one; retried on another port if the pick was
 * taken meanwhile) and resolves once it answers PING. Returns
 * { port, url, pid, running, command(...args), kill(signal), stop(), restart(), logText() }.
 */
export async function startRedis({ port, readyTimeoutMs = 10_000 } = {}) {
  let inst;
  let chosen = port;
  for (let attempt = 0; ; attempt++) {
    chosen = port ?? (await freePort());
    inst = spawnRedis(chosen);
    if (await waitForPong(chosen, inst.proc, readyTimeoutMs)) break;
    inst.proc.kill('SIGKILL');
    await inst.exited;
    if (port !== undefined || attempt >= 4) {
      throw new Error(`redis-server did not answer PING on port ${chosen}\n${inst.log()}`);
    }
  }

  const redis = {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    get pid() {
      return inst.proc.pid;
    },
    get running() {
      return inst.proc.exitCode === null && inst.proc.signalCode === null;
    },
    logText: () => inst.log(),
    /** One command on a fresh connection; resolves with the reply. */
    command: (...args) => redisCommand(chosen, args),
    /** Sends `signal` (SIGKILL: an outage with no goodbye) and waits for the exit. */
    async kill(signal = 'SIGKILL') {
      if (redis.running) inst.proc.kill(signal);
      await inst.exited;
    },
    async stop() {
      await redis.kill('SIGTERM');
    },
    /** Starts a fresh (empty) redis-server on the same port; resolves once it answers PING. */
    async restart() {
      await redis.kill('SIGKILL');
      // The old listener is gone with the process; the port stays ours unless someone raced us.
      inst = spawnRedis(chosen);
      if (!(await waitForPong(chosen, inst.proc, readyTimeoutMs))) {
        inst.proc.kill('SIGKILL');
        throw new Error(`redis-server did not come back on port ${chosen}\n${inst.log()}`);
      }
    },
  };
  return redis;
}

/** PUBSUB NUMSUB for one channel: how many connections subscribe to it. */
export async function numsub(redis, channel) {
  const r = await redis.command('PUBSUB', 'NUMSUB', channel);
  return Number(r[1]);
}
