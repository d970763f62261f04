// A real Redis Cluster for the tests: N masters (redis-server --cluster-enabled yes, each on a
// port p whose cluster bus p + 10000 is free too), joined with `redis-cli --cluster create`, and
// resolved once every node reports cluster_state:ok. Processes are stopped by PID; their
// nodes.conf files live in a temporary directory removed by stop().
//
//   const cluster = await startRedisCluster({ masters: 3 });
//   cluster.nodes[0].url            // what a Switchboard node is given (any master will do)
//   await cluster.ownerOf('socket.io#/#room#')   // index of the master owning that key's slot
//   await cluster.stop();

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { redisCommand } from './redis-server.mjs';
import { waitUntil } from './server.mjs';

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

function bindable(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port p in 20000..29999 with p and p + 10000 (the cluster bus) both free right now. */
async function freeClusterPort(taken) {
  for (let i = 0; i < 200; i++) {
    const p = 20000 + Math.floor(Math.random() * 10000);
    if (taken.has(p)) continue;
    if ((await bindable(p)) && (await bindable(p + 10000))) return p;
  }
  throw new Error('no free port pair for a cluster node');
}

// CRC16-XMODEM, the cluster key hash (with {hash tags}), mod 16384.
function crc16(buf) {
  let crc = 0;
  for (const b of buf) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}
export function keySlot(key) {
  let k = key;
  const open = k.indexOf('{');
  if (open >= 0) {
    const close = k.indexOf('}', open + 1);
    if (close > open + 1) k = k.slice(open + 1, close);
  }
  return crc16(Buffer.from(k)) & 16383;
}

function spawnNode(port, dir) {
  const argv = [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--loglevel', 'warning', '--dir', dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
    '--cluster-node-timeout', '5000',
    '--proc-title-template', '{title} {listen-addr} switchboard-test',
  ];
  const proc = spawn('redis-server', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(proc);
  const pf = pidFile(proc.pid);
  if (pf) fs.writeFileSync(pf, '');
  let log = '';
  proc.stderr.on('data', (d) => {
    log = (log + d).slice(-16384);
  });
  const exited = new Promise((resolve) => {
    proc.on('exit', () => {
      live.delete(proc);
      if (pf) fs.rmSync(pf, { force: true });
      resolve();
    });
  });
  return { port, url: `redis://127.0.0.1:${port}`, proc, exited, log: () => log, command: (...a) => redisCommand(port, a) };
}

/** Starts `masters` cluster nodes, joins them, and resolves once all say cluster_state:ok. */
export async function startRedisCluster({ masters = 3, timeoutMs = 30_000 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-redis-cluster-'));
  const nodes = [];
  const taken = new Set();
  const cluster = {
    nodes,
    async stop() {
      for (const n of nodes) {
        if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGTERM');
        await n.exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    /** CLUSTER SLOTS (asked of node 0) → index in `nodes` of the master owning `key`'s slot. */
    async ownerOf(key) {
      const slot = keySlot(key);
      const slots = await nodes[0].command('CLUSTER', 'SLOTS');
      for (const [first, last, [, port]] of slots) {
        if (slot >= first && slot <= last) return nodes.findIndex((n) => n.port === Number(port));
      }
      return -1;
    },
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(taken);
      taken.add(port);
      nodes.push(spawnNode(port, dir));
    }
    for (const n of nodes) {
      await waitUntil(async () => (await n.command('PING')) === 'PONG', { timeoutMs: 10_000, what: `redis cluster node ${n.port}\n${n.log()}` });
    }
    const args = ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'];
    await new Promise((resolve, reject) => {
      execFile('redis-cli', args, { timeout: timeoutMs }, (err, stdout, stderr) =>
        err ? reject(new Error(`redis-cli --cluster create failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve());
    });
    await waitUntil(async () => {
      for (const n of nodes) {
        const info = await n.command('CLUSTER', 'INFO');
        if (typeof info !== 'string' || !info.includes('cluster_state:ok')) return false;
      }
      return true;
    }, { timeoutMs, what: 'cluster_state:ok on every node' });
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
