// Socket.IO at scale with the official socket.io-client: 1,000 clients (WebSocket transport, from
// source addresses 127.0.0.2..127.0.0.5 through engine.io-client's `localAddress`) in one room of
// the chat app on `switchboard serve --threads 2`. One sender emits 50 numbered chat messages;
// every client gets every message exactly once and in order. Then the server is stopped and a new
// one started on the same port: every client reconnects by itself (socket.io-client's Manager),
// joins again, and the same 50-message fan-out holds. Each phase is bounded to 120 s.
// SB_SIO_SCALE_CLIENTS changes the client count (local experiments).

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { io } from 'socket.io-client';
import { sleep, startServer, waitUntil } from './lib/server.mjs';

const kClients = Number(process.env.SB_SIO_SCALE_CLIENTS ?? 1000);
const kMessages = 50;
const kInFlight = 200;
const kSources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const kRoom = 'scale';
const kServerArgs = ['--threads', '2', '--log-level', 'warn'];
const kEnv = { SB_SIO_TEST: '1' };  // the `count` event (fetchSockets on the room)

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

let server;
let port;
const clients = [];  // { s, index, connects, disconnectReasons: [], got: Map(phase → seq[]) }

before(async () => {
  port = await freePort();
  server = await startServer([...kServerArgs, '--port', port], { env: kEnv });
});
after(async () => {
  for (const c of clients) c.s.disconnect();
  await server?.stop({ timeoutMs: 30_000 });
});

function makeClient(index) {
  const c = { index, connects: 0, connectErrors: 0, disconnectReasons: [], got: new Map() };
  c.s = io(`http://127.0.0.1:${port}`, {
    forceNew: true,
    transports: ['websocket'],
    localAddress: kSources[index % kSources.length],
    reconnection: true,
    reconnectionDelay: 250,
    reconnectionDelayMax: 2000,
    timeout: 20_000,
  });
  // Rooms live on the server: join on every (re)connection.
  c.s.on('connect', () => {
    c.connects++;
    c.s.emit('join', kRoom);
  });
  c.s.on('connect_error', () => c.connectErrors++);
  c.s.on('disconnect', (reason) => c.disconnectReasons.push(reason));
  c.s.on('chat', (m) => {
    if (!m || typeof m !== 'object' || typeof m.seq !== 'number') return;
    if (!c.got.has(m.phase)) c.got.set(m.phase, []);
    c.got.get(m.phase).push(m.seq);
  });
  return c;
}

async function roomCount() {
  const probe = clients.find((c) => c.s.connected);
  if (!probe) return -1;
  return probe.s.timeout(5000).emitWithAck('count', kRoom);
}

// Every client connected (`connects` reached `n`) and the server counts all of them in the room.
async function allInRoom(n, timeoutMs) {
  await waitUntil(() => clients.every((c) => c.connects >= n && c.s.connected), {
    timeoutMs, intervalMs: 100,
    what: `${kClients} clients connected (connection #${n}); ` +
      `${clients.filter((c) => c.connects >= n && c.s.connected).length} are`,
  });
  let last = -1;
  await waitUntil(async () => (last = await roomCount()) === kClients, {
    timeoutMs, intervalMs: 200, what: `room '${kRoom}' to hold ${kClients} sockets (last count ${last})`,
  });
}

// The sender emits kMessages numbered messages; every client must get each exactly once, in order.
async function fanOut(phase, timeoutMs) {
  const sender = clients[0].s;
  const t0 = Date.now();
  for (let seq = 0; seq < kMessages; ++seq) sender.emit('chat', kRoom, { phase, seq, pad: 'x'.repeat(64) });
  const done = () => clients.every((c) => (c.got.get(phase)?.length ?? 0) >= kMessages);
  await waitUntil(done, {
    timeoutMs, intervalMs: 100,
    what: `all ${kMessages} phase-${phase} messages at all ${kClients} clients ` +
      `(${clients.filter((c) => (c.got.get(phase)?.length ?? 0) >= kMessages).length} complete)`,
  });
  const ms = Date.now() - t0;
  await sleep(300);  // late duplicates would land here
  const expected = Array.from({ length: kMessages }, (_, i) => i);
  const bad = clients.filter((c) => {
    const g = c.got.get(phase);
    return g.length !== kMessages || g.some((v, i) => v !== i);
  });
  assert.equal(bad.length, 0, `${bad.length} clients got a wrong sequence, e.g. client ${bad[0]?.index}: ` +
    JSON.stringify(bad[0]?.got.get(phase)) + ` (expected ${JSON.stringify(expected)})`);
  return ms;
}

test(`${kClients} socket.io-client clients in one room: ${kMessages} messages reach all, once, in order`,
  { timeout: 120_000 }, async (t) => {
    const t0 = Date.now();
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= kClients) return;
        const c = makeClient(i);
        clients.push(c);
        await waitUntil(() => c.connects >= 1, { timeoutMs: 30_000, intervalMs: 10, what: `client ${i} to connect` });
      }
    };
    await Promise.all(Array.from({ length: kInFlight }, worker));
    await allInRoom(1, 60_000);
    const tConnected = Date.now() - t0;
    // The source addresses really were spread (ws keeps its net.Socket as `_socket`).
    const locals = new Set(clients.map((c) => c.s.io.engine?.transport?.ws?._socket?.localAddress));
    if (!locals.has(undefined)) assert.deepEqual([...locals].sort(), kSources, 'source addresses used');
    const ms = await fanOut(1, 60_000);
    t.diagnostic(`connected + joined ${kClients} in ${tConnected} ms; ${kMessages}×${kClients} delivered in ${ms} ms`);
    assert.ok(clients.every((c) => c.connects === 1), 'no client reconnected during the fan-out');
    assert.deepEqual(clients.flatMap((c) => c.disconnectReasons), []);
  });

test('server restart on the same port: every client reconnects by itself and chats again',
  { timeout: 120_000 }, async (t) => {
    assert.equal(clients.length, kClients, 'the first test set up the clients');
    const t0 = Date.now();
    await server.stop({ timeoutMs: 30_000 });
    const tStopped = Date.now() - t0;
    await waitUntil(() => clients.every((c) => !c.s.connected), {
      timeoutMs: 20_000, what: 'every client to see the disconnect',
    });
    const reasons = {};
    for (const c of clients) for (const r of c.disconnectReasons) reasons[r] = (reasons[r] ?? 0) + 1;
    // 'io server disconnect' would stop socket.io-client's automatic reconnection.
    assert.equal(reasons['io server disconnect'], undefined, `disconnect reasons: ${JSON.stringify(reasons)}`);
    assert.ok(clients.every((c) => c.s.active), 'every client is still trying to reconnect');

    await sleep(500);  // let some reconnection attempts fail against the closed port
    server = await startServer([...kServerArgs, '--port', port], { env: kEnv });
    await allInRoom(2, 90_000);
    const tBack = Date.now() - t0;
    const ms = await fanOut(2, 60_000);
    t.diagnostic(`stop ${tStopped} ms; disconnect reasons ${JSON.stringify(reasons)}; all reconnected ` +
      `and joined ${tBack} ms after the stop; ${kMessages}×${kClients} delivered in ${ms} ms`);
    assert.ok(clients.every((c) => c.connects === 2), 'each client reconnected exactly once');
    // Nothing from phase 1 arrived again after the restart.
    assert.ok(clients.every((c) => c.got.get(1).length === kMessages));
  });
