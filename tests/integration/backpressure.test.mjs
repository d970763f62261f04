// Outbound limit: a client that sends but never reads is disconnected once its outbound queue
// passes --max-outbound-bytes; the reason is counted; other clients are unaffected.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { assertHealthy, closedByReason, getMetrics, startServer, waitUntil } from './lib/server.mjs';
import { wsOpen } from './lib/raw.mjs';
import { binary } from './lib/frames.mjs';
import { connect, nextMessage, send } from './lib/ws-client.mjs';

let server;
before(async () => {
  server = await startServer(['--max-outbound-bytes', '65536']);
});
after(async () => {
  await server?.stop();
});

async function echoOnce(ws, payload) {
  const r = nextMessage(ws);
  await send(ws, payload, { binary: true });
  const m = await r;
  assert.ok(m.data.equals(payload));
}

test('a non-reading client is disconnected with reason outbound_overflow; others unaffected', async () => {
  const good = await connect(server.port, '/raw/echo');
  await echoOnce(good, crypto.randomBytes(1000));
  const before0 = closedByReason(await getMetrics(server.port), 'outbound_overflow');

  const { conn } = await wsOpen(server.port, '/raw/echo');
  conn.sock.pause(); // stop reading: the kernel buffers fill, then the server's queue grows
  const frame = binary(crypto.randomBytes(256 * 1024));
  let sent = 0;
  let writeError = null;
  conn.sock.on('error', (e) => (writeError = e));
  const deadline = Date.now() + 60_000;
  // Up to 256 MiB; loopback buffers hold a few MiB, so the limit is crossed long before that.
  while (sent < 256 * 1024 * 1024 && Date.now() < deadline && !writeError && !conn.sock.destroyed) {
    const ok = conn.sock.write(frame);
    sent += frame.length;
    if (!ok) {
      const drained = await Promise.race([
        new Promise((r) => conn.sock.once('drain', () => r(true))),
        new Promise((r) => conn.sock.once('close', () => r(false))),
        new Promise((r) => setTimeout(() => r(false), 3000)),
      ]);
      if (!drained) break; // the server stopped reading us: it has (or is about to have) closed
    }
    // Meanwhile the well-behaved client keeps working.
    if (sent % (16 * 1024 * 1024) === 0) await echoOnce(good, crypto.randomBytes(100));
  }

  const after0 = await waitUntil(async () => {
    const v = closedByReason(await getMetrics(server.port), 'outbound_overflow');
    return v > before0 ? v : 0;
  }, { timeoutMs: 15_000, what: 'sb_connections_closed_total{reason="outbound_overflow"} to increase' });
  assert.ok(after0 >= before0 + 1);

  // The TCP connection is gone: resume reading; whatever was buffered arrives, then EOF/RST.
  conn.sock.resume();
  assert.ok(await conn.waitClosed(15_000), `overflowing connection still open after sending ${sent} bytes`);
  conn.destroy();

  await echoOnce(good, crypto.randomBytes(50_000));
  good.terminate();
  await assertHealthy(server.port);
});

test('a slow reader that keeps up stays connected', async () => {
  const ws = await connect(server.port, '/raw/echo');
  try {
    // 200 × 32 KiB = 6.4 MiB, one message in flight at a time: never above the limit.
    for (let i = 0; i < 200; i++) await echoOnce(ws, crypto.randomBytes(32 * 1024));
  } finally {
    ws.terminate();
  }
});
