// 10,000 concurrent /raw/echo WebSocket connections on one node with --threads 2, plus a sample of
// 500 /raw/chat connections open at the same time: every echo connection completes a round trip
// while all are open, and a /raw/chat message reaches every chat client. Connections come from
// 127.0.0.2..127.0.0.5 (ephemeral ports per source address), with at most 500 connection attempts
// in flight. Bounded to 180 s. SB_C10K_CONNECTIONS changes the echo count (local experiments).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { getMetrics, startServer, sumMetrics } from './lib/server.mjs';
import { WebSocket } from './lib/ws-client.mjs';

const kEcho = Number(process.env.SB_C10K_CONNECTIONS ?? 10_000);
const kChat = Math.min(500, Math.max(2, Math.floor(kEcho / 20)));
const kTotal = kEcho + kChat;
const kInFlight = 500;
const kSources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];

let server;
before(async () => {
  server = await startServer(['--threads', '2', '--log-level', 'warn']);
});
after(async () => {
  await server?.stop({ timeoutMs: 30_000 });
});

function open(port, path, localAddress) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false, localAddress, handshakeTimeout: 30_000 });
    ws.once('open', () => {
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

test(`${kEcho} echo + ${kChat} chat connections at once: echo round trip each, chat reaches all`, { timeout: 180_000 }, async () => {
  const t0 = Date.now();
  const sockets = new Array(kTotal);
  let unexpectedCloses = 0;
  let next = 0;
  let failed = false;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= kTotal || failed) return;
      let ws;
      try {
        ws = await open(server.port, i < kChat ? '/raw/chat' : '/raw/echo', kSources[i % kSources.length]);
      } catch (e) {
        failed = true;
        throw new Error(`connection ${i} (${next - 1} attempted) failed: ${e.message}`);
      }
      ws.on('close', () => unexpectedCloses++);
      sockets[i] = ws;
    }
  };
  try {
    await Promise.all(Array.from({ length: kInFlight }, worker));
    const tOpen = Date.now() - t0;

    // Echo: every echo connection sends its index and must get exactly it back.
    const echoes = [];
    for (let i = kChat; i < kTotal; i++) {
      const ws = sockets[i];
      echoes.push(new Promise((resolve, reject) => {
        ws.once('message', (d) => {
          if (d.toString() === `echo-${i}`) resolve();
          else reject(new Error(`connection ${i} got ${d.toString()}`));
        });
      }));
      ws.send(`echo-${i}`);
    }
    await Promise.all(echoes);
    const tEcho = Date.now() - t0;

    // Chat: two messages from clients on different source addresses reach every chat client.
    for (const from of [0, kChat - 1]) {
      const got = sockets.slice(0, kChat).map((ws) => new Promise((resolve) => ws.once('message', (d) => resolve(d.toString()))));
      sockets[from].send(`chat-from-${from}`);
      const msgs = await Promise.all(got);
      assert.equal(msgs.filter((m) => m === `chat-from-${from}`).length, kChat);
    }
    assert.equal(unexpectedCloses, 0, `${unexpectedCloses} connections closed during the test`);

    const m = await getMetrics(server.port);
    assert.ok(sumMetrics(m, /^sb_connections_accepted_total$/) >= kTotal);
    const active = sumMetrics(m, /^sb_connections_active$/);
    if (m.has('sb_connections_active')) assert.ok(active >= kTotal, `sb_connections_active = ${active}`);
    console.log(`# c10k: ${kTotal} open in ${tOpen} ms, all echoed by ${tEcho} ms, chat done by ${Date.now() - t0} ms`);
  } finally {
    for (const ws of sockets) if (ws) ws.terminate();
  }
});
