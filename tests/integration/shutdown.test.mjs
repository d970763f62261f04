// Graceful shutdown: SIGTERM closes every WebSocket with 1001 (going away) and exits 0 within the
// shutdown timeout, even when a client never answers the close handshake.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from './lib/server.mjs';
import { RawConn, wsOpen } from './lib/raw.mjs';
import { Op, text } from './lib/frames.mjs';
import { closed, connect, nextMessage, send } from './lib/ws-client.mjs';

test('SIGTERM → every WebSocket client gets close 1001; exit 0', async () => {
  const server = await startServer(['--shutdown-timeout-ms', '3000']);
  const clients = [];
  for (let i = 0; i < 6; i++) clients.push(await connect(server.port, '/raw/echo'));
  for (let i = 0; i < 6; i++) clients.push(await connect(server.port, '/raw/chat'));
  // Each connection is live before the signal.
  for (const ws of clients.slice(0, 6)) {
    const r = nextMessage(ws);
    await send(ws, 'ping?');
    assert.equal((await r).data.toString(), 'ping?');
  }
  const closes = clients.map((ws) => closed(ws, 15_000));
  assert.equal(await server.stop({ timeoutMs: 3000 + 7000 }), 0);
  const { ms } = server.lastStop;
  const codes = (await Promise.all(closes)).map((c) => c.code);
  assert.deepEqual(codes, clients.map(() => 1001));
  assert.ok(ms < 10_000, `exit took ${ms} ms`);
});

test('a client that never answers the close frame does not hold the exit past the timeout', async () => {
  const server = await startServer(['--shutdown-timeout-ms', '1000']);
  const { conn } = await wsOpen(server.port, '/raw/echo'); // never replies to close
  const idleHttp = await RawConn.open(server.port); // keep-alive HTTP connection mid-idle
  await idleHttp.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await idleHttp.readResponse()).status, 200);
  await conn.write(text('x'));
  assert.equal((await conn.readFrame()).opcode, Op.kText);

  const stopping = server.stop({ timeoutMs: 1000 + 7000 });
  const f = await conn.readFrame({ timeoutMs: 8000 });
  assert.equal(f?.opcode, Op.kClose, 'no close frame before the connection dropped');
  assert.equal(f.closeCode, 1001);
  assert.equal(await stopping, 0);
  const { ms } = server.lastStop;
  assert.ok(await conn.waitClosed(1000), 'WebSocket TCP connection still open after exit');
  assert.ok(await idleHttp.waitClosed(1000), 'HTTP keep-alive connection still open after exit');
  assert.ok(ms < 8000, `exit took ${ms} ms`);
  conn.destroy();
  idleHttp.destroy();
});

test('SIGINT also shuts down cleanly', async () => {
  const server = await startServer();
  const ws = await connect(server.port, '/raw/echo');
  const c = closed(ws, 15_000);
  await server.stop({ signal: 'SIGINT' });
  assert.equal((await c).code, 1001);
});

test('after SIGTERM the listener stops accepting', async () => {
  const server = await startServer(['--shutdown-timeout-ms', '2000']);
  const port = server.port;
  await server.stop();
  await assert.rejects(RawConn.open(port, { timeoutMs: 2000 }).then(async (c) => {
    // Some kernels may still complete a connect for an instant; it must not be served.
    await c.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await c.readResponse({ timeoutMs: 2000 });
    c.destroy();
    if (r === null) throw new Error('closed');
    return r;
  }));
});
