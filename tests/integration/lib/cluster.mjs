// Helpers for the multi-node tests (cluster-*.test.mjs): start Switchboard nodes on one Redis,
// connect official socket.io-client clients to any node (ours or a Node.js peer), record what
// they receive, and wait for conditions — never for a fixed time.
//
// Both kinds of node implement the same test events (listed in peers/node-sio.mjs), so a test
// can drive an operation from either side with `call(client, event, arg)`.

import { io as ioClient } from 'socket.io-client';
import { numsub, redisCommand } from './redis-server.mjs';
import { getMetrics, httpGet, startServer, waitUntil } from './server.mjs';

export { waitUntil };

/**
 * Starts `switchboard serve --app chat` (test hooks on; `args` may name another app) as one node
 * of the cluster on `redis`. Its `name` is its node id as a string (what the chat app reports).
 */
export async function startSbNode(redis, { nodeId, adapter = 'redis', key, args = [], env = {} } = {}) {
  const argv = ['--node-id', String(nodeId), '--adapter', adapter, '--redis', redis.url];
  if (!args.includes('--app')) argv.push('--app', 'chat');
  if (key) argv.push('--redis-key', key);
  argv.push(...args);
  const s = await startServer(argv, { env: { SB_SIO_TEST: '1', ...env } });
  s.kind = 'sb';
  s.name = String(nodeId);
  return s;
}

/** GET /readyz → { status, body }. */
export async function readyz(node) {
  const r = await httpGet(node.port, '/readyz');
  return { status: r.status, body: r.body.toString().trim() };
}

/**
 * Waits until the cluster is formed: every Switchboard node answers /readyz 200 and Redis counts
 * `expected` subscriber connections on the namespace's server-count channel (classic:
 * NUMSUB `<key>-request#/#`; sharded: SHARDNUMSUB `<key>#/#`).
 */
export async function waitClusterFormed(redis, nodes, { key = 'socket.io', sharded = false, expected = nodes.length, timeoutMs = 15_000 } = {}) {
  await waitUntil(async () => {
    for (const n of nodes) {
      if (n.kind === 'sb' && (await readyz(n)).status !== 200) return false;
    }
    if (sharded) {
      const r = await redisCommand(redis.port, ['PUBSUB', 'SHARDNUMSUB', `${key}#/#`]);
      return Number(r[1]) === expected;
    }
    return (await numsub(redis, `${key}-request#/#`)) === expected;
  }, { timeoutMs, what: `${expected} nodes subscribed on ${redis.url} (key ${key}${sharded ? ', sharded' : ''})` });
}

/** Tracks every client a test opens so `closeAll()` can clean up. */
export class Clients {
  constructor() {
    this.open = new Set();
  }

  /** Connects to `node` (anything with a port) and resolves once connected. */
  async connect(node, { nsp = '', transports = ['websocket'], timeoutMs = 10_000, ...opts } = {}) {
    const s = ioClient(`http://127.0.0.1:${node.port}${nsp}`, {
      forceNew: true,
      reconnection: false,
      transports,
      ...opts,
    });
    this.open.add(s);
    s.node = node;
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`client to ${node.kind}:${node.name} did not connect within ${timeoutMs} ms`)), timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      s.once('connect_error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    return s;
  }

  closeAll() {
    for (const s of this.open) s.disconnect();
    this.open.clear();
  }
}

/** Emits with an ack and resolves with the first ack argument (10 s max). */
export function call(socket, event, ...args) {
  return socket.timeout(10_000).emitWithAck(event, ...args);
}

/**
 * Records every `event` a client receives (each entry: the array of arguments). `waitFor(pred)`
 * resolves once the recorded list satisfies pred; `waitCount(n)` once n entries are there.
 */
export function record(socket, event) {
  const rec = {
    list: [],
    values: () => rec.list.map((args) => (args.length === 1 ? args[0] : args)),
    waitFor: (pred, what = `${event} on ${socket.id}`, timeoutMs = 10_000) =>
      waitUntil(() => pred(rec.values()), { timeoutMs, intervalMs: 10, what }),
    waitCount: (n, timeoutMs = 10_000) =>
      rec.waitFor((v) => v.length >= n, `${n} '${event}' on client ${socket.id} (node ${socket.node?.name})`, timeoutMs),
    clear: () => {
      rec.list.length = 0;
    },
  };
  socket.on(event, (...args) => {
    if (typeof args[args.length - 1] === 'function') args.pop();
    rec.list.push(args);
  });
  return rec;
}

/** Resolves with the `disconnect` reason (10 s max). */
export function disconnected(socket, timeoutMs = 10_000) {
  if (!socket.connected) return Promise.resolve('already disconnected');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`client ${socket.id} not disconnected within ${timeoutMs} ms`)), timeoutMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(t);
      resolve(reason);
    });
  });
}

/** Every client joins `room` (join with ack: the membership is in place when this resolves). */
export async function joinAll(clients, room) {
  for (const c of clients) {
    const r = await call(c, 'join', room);
    if (r !== room) throw new Error(`join ${room} answered ${JSON.stringify(r)}`);
  }
}

/** Sum of the samples of /metrics on `node` whose `name{labels}` matches `re`. */
export async function metricSum(node, re) {
  const m = await getMetrics(node.port);
  let sum = 0;
  let seen = false;
  for (const [k, v] of m) {
    if (re.test(k)) {
      sum += v;
      seen = true;
    }
  }
  return seen ? sum : null;
}

/** Sorts a copy (for order-independent comparisons of responses gathered from several nodes). */
export function sorted(list, key = (x) => JSON.stringify(x)) {
  return [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

let seq = 0;
/** A name unique within this test process (rooms, events). */
export function unique(prefix) {
  seq += 1;
  return `${prefix}-${process.pid}-${seq}`;
}
