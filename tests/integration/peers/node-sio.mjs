// A Node.js Socket.IO 4.8 node for mixed-cluster tests: the same chat behaviour as Switchboard's
// `--app chat` (with SB_SIO_TEST=1 hooks), on @socket.io/redis-adapter 8.3 with the npm `redis`
// v4 client. Started by lib/node-peer.mjs:
//
//   node peers/node-sio.mjs --port 0 --redis redis://127.0.0.1:6379 --adapter redis|redis-sharded|memory
//        [--key socket.io] [--node NAME] [--subscription-mode dynamic|static|dynamic-private]
//
// Prints `listening on 127.0.0.1:PORT` once serving. Exits 0 on SIGTERM/SIGINT, and by itself
// when its stdin closes (the test process that started it is gone), so it never outlives a test.
//
// The events (client → server) are the contract both kinds of node implement; see
// tests/integration/lib/cluster.mjs for how tests use them:
//   join room|{room} [ack]        leave room|{room} [ack]       chat room, msg | {room, text}
//   members room ack → [ids in the room, cluster-wide, sorted]
//   echo ...args [ack]            whoami ack → {id, node}
//   bcast {rooms, except, local, event, data} ack         io.to(..).except(..)[.local].emit(event, data)
//   ask-room {room, timeout} ack → {error, responses}    io.to(room).timeout(t).emitWithAck("question")
//   fetch {room} ack → [{id, rooms}] (sorted)             io.in(room).fetchSockets()
//   count room ack → n
//   sockets-join {in, rooms} ack / sockets-leave {in, rooms} ack / disconnect-sockets {in, close} ack
//   remote {in, op: join|leave|disconnect, room, close} ack → n    (on each fetched RemoteSocket)
//   sse {event, args, ack} ack → {error, responses}      io.serverSideEmit(...) / serverSideEmitWithAck
//   all-rooms ack → [rooms] (sorted)                      server-count ack → n
// Server-side events received from other nodes:
//   "ping-sse" ...args, cb → cb({node, got: args})
//   any event  → io.local.emit("sse", {node, event, args}) to this node's own clients

import http from 'node:http';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';

function parseArgs(argv) {
  const o = { port: 0, host: '127.0.0.1', adapter: 'memory', key: 'socket.io', node: 'node', subscriptionMode: 'dynamic' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--port') o.port = Number(v());
    else if (a === '--host') o.host = v();
    else if (a === '--redis') o.redis = v();
    else if (a === '--adapter') o.adapter = v();
    else if (a === '--key') o.key = v();
    else if (a === '--node') o.node = v();
    else if (a === '--subscription-mode') o.subscriptionMode = v();
    else if (a === '--requests-timeout-ms') o.requestsTimeout = Number(v());
    else if (a === '--switchboard-test-peer') { /* a marker for scripts/test's leftover sweep */ }
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const log = (...a) => console.error(`[node-sio ${opts.node}]`, ...a);

const roomOf = (a) => (typeof a === 'string' ? a : a && typeof a.room === 'string' ? a.room : '');
const lastFn = (args) => (typeof args[args.length - 1] === 'function' ? args.pop() : null);
const list = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

// {rooms | in, except, local} → io.to(rooms…).except(except…)[.local]
function target(io, { rooms, in: inRooms, except, local } = {}) {
  let op = io;
  for (const r of [...list(rooms), ...list(inRooms)]) op = op.to(r);
  for (const r of list(except)) op = op.except(r);
  if (local) op = op.local;
  return op;
}

async function fetched(io, room) {
  const sockets = await (room ? io.in(room) : io).fetchSockets();
  return sockets
    .map((s) => ({ id: s.id, rooms: [...s.rooms].sort() }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function chatHandlers(io, socket) {
  socket.on('join', (a, ack) => {
    const room = roomOf(a);
    if (room) socket.join(room);
    if (typeof ack === 'function') ack(room);
  });
  socket.on('leave', (a, ack) => {
    const room = roomOf(a);
    socket.leave(room);
    if (typeof ack === 'function') ack(room);
  });
  socket.on('whoami', (ack) => {
    if (typeof ack === 'function') ack({ id: socket.id, node: opts.node });
  });
  socket.on('members', async (a, ack) => {
    const ids = (await io.in(roomOf(a)).fetchSockets()).map((s) => s.id).sort();
    if (typeof ack === 'function') ack(ids);
  });
  socket.on('chat', (a, msg) => {
    if (typeof a === 'string' && a !== '') {
      io.to(a).emit('chat', msg);
      return;
    }
    const room = roomOf(a);
    if (!room) return;
    io.to(room).emit('chat', { room, text: a.text === undefined ? null : a.text, from: socket.id });
  });
  socket.on('echo', (...args) => {
    const ack = lastFn(args);
    if (ack) ack(...args);
    else socket.emit('echo', ...args);
  });
}

function testHandlers(io, socket) {
  const reply = (fn) => async (...args) => {
    const ack = lastFn(args);
    try {
      const r = await fn(...args);
      ack?.(r);
    } catch (e) {
      ack?.({ error: e.message });
    }
  };
  socket.on('bye', () => socket.disconnect());
  socket.on('bye-all', () => socket.disconnect(true));
  socket.on('bcast', reply((a) => {
    const args = a.data === undefined ? [] : [a.data];
    target(io, a).emit(a.event, ...args);
    return true;
  }));
  socket.on('ask-room', (a, ack) => {
    const t = typeof a?.timeout === 'number' ? a.timeout : 1000;
    io.to(roomOf(a)).timeout(t).emit('question', (err, responses) => {
      ack({ error: err ? err.message : null, responses: responses ?? [] });
    });
  });
  socket.on('fetch', reply((a) => fetched(io, roomOf(a ?? {}))));
  socket.on('count', reply(async (a) => (await io.in(roomOf(a)).fetchSockets()).length));
  socket.on('sockets-join', reply((a) => {
    target(io, a).socketsJoin(list(a.rooms));
    return true;
  }));
  socket.on('sockets-leave', reply((a) => {
    target(io, a).socketsLeave(list(a.rooms));
    return true;
  }));
  socket.on('disconnect-sockets', reply((a) => {
    target(io, a).disconnectSockets(Boolean(a.close));
    return true;
  }));
  socket.on('remote', reply(async (a) => {
    const sockets = await target(io, a).fetchSockets();
    for (const s of sockets) {
      if (a.op === 'join') s.join(a.room);
      else if (a.op === 'leave') s.leave(a.room);
      else if (a.op === 'disconnect') s.disconnect(Boolean(a.close));
      else if (a.op === 'emit') s.emit(a.event, a.data);
    }
    return sockets.length;
  }));
  socket.on('sse', (a, ack) => {
    const args = list(a.args);
    if (!a.ack) {
      io.serverSideEmit(a.event, ...args);
      ack?.({ error: null, responses: [] });
      return;
    }
    // The wait is the adapter's requestsTimeout (--requests-timeout-ms), as in Node.
    io.serverSideEmit(a.event, ...args, (err, responses) => {
      ack?.({ error: err ? err.message : null, responses: responses ?? [] });
    });
  });
  socket.on('all-rooms', reply(async () => [...(await io.of('/').adapter.allRooms())].sort()));
  socket.on('server-count', reply(() => io.of('/').adapter.serverCount()));
}

function serverSideHandlers(io) {
  io.on('ping-sse', (...args) => {
    const cb = lastFn(args);
    cb?.({ node: opts.node, got: args });
  });
  for (const ev of ['shout', 'ping-sse']) {
    io.on(ev, (...args) => {
      lastFn(args);
      io.local.emit('sse', { node: opts.node, event: ev, args });
    });
  }
}

async function makeAdapter() {
  if (opts.adapter === 'memory') return { adapter: undefined, clients: [] };
  if (!opts.redis) throw new Error('--redis URL is required with a Redis adapter');
  const pub = createClient({ url: opts.redis });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (e) => log('redis error:', e.message));
  await Promise.all([pub.connect(), sub.connect()]);
  if (opts.adapter === 'redis') {
    const o = { key: opts.key };
    if (opts.requestsTimeout) o.requestsTimeout = opts.requestsTimeout;
    return { adapter: createAdapter(pub, sub, o), clients: [pub, sub] };
  }
  if (opts.adapter === 'redis-sharded') {
    return {
      adapter: createShardedAdapter(pub, sub, { channelPrefix: opts.key, subscriptionMode: opts.subscriptionMode }),
      clients: [pub, sub],
    };
  }
  throw new Error(`unknown --adapter ${opts.adapter}`);
}

const { adapter, clients } = await makeAdapter();
const httpServer = http.createServer();
const io = new Server(httpServer, { adapter, cors: { origin: true } });
serverSideHandlers(io);
io.on('connection', (socket) => {
  chatHandlers(io, socket);
  testHandlers(io, socket);
});
io.of('/admin').on('connection', (socket) => {
  chatHandlers(io.of('/admin'), socket);
  socket.emit('welcome', 'admin');
});

httpServer.listen(opts.port, opts.host, () => {
  const { address, port } = httpServer.address();
  process.stdout.write(`listening on ${address}:${port}\n`);
});

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  io.close();
  // quit() waits for Redis, which may be the thing that is down: bounded.
  await Promise.race([
    Promise.allSettled(clients.map((c) => c.quit())),
    new Promise((r) => setTimeout(r, 1000)),
  ]);
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.stdin.on('end', () => shutdown(0));
process.stdin.on('close', () => shutdown(0));
process.stdin.resume();
