// Slow clients: a request head or body that does not arrive in time gets the connection closed,
// even when bytes keep trickling in (the timeout is a deadline, not an idle timer).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertHealthy, sleep, startServer } from './lib/server.mjs';
import { RawConn } from './lib/raw.mjs';

let server;
before(async () => {
  server = await startServer(['--header-timeout-ms', '500', '--body-timeout-ms', '500']);
});
after(async () => {
  await server?.stop();
});

// The server may answer 408 before closing; either way the connection must be gone.
function assertOnlyTimeoutResponse(conn) {
  const text = conn.buf.toString('latin1');
  if (text.length) assert.match(text, /^HTTP\/1\.1 408 /, `unexpected bytes: ${JSON.stringify(text.slice(0, 100))}`);
}

test('the header timeout never fires early, on any loop (idle connections after idle gaps)', async () => {
  // --threads 2: consecutive connections usually land on different loops, and the server is left
  // idle for a varying while before each. Each connection must stay open for at least half the
  // timeout (generous for a coarse timer sweep) and be closed within 5 s.
  const lifetimes = [];
  for (let i = 0; i < 8; i++) {
    await sleep(50 + ((i * 137) % 400));
    const conn = await RawConn.open(server.port);
    const t0 = Date.now();
    const closedInTime = await conn.waitClosed(5000);
    lifetimes.push({ i, ms: Date.now() - t0, closedInTime });
    conn.destroy();
  }
  for (const { i, ms, closedInTime } of lifetimes) {
    assert.ok(closedInTime, `idle connection ${i} still open after 5 s`);
    assert.ok(ms >= 250, `idle connection ${i} closed after ${ms} ms with --header-timeout-ms 500 ` +
      `(all: ${lifetimes.map((l) => l.ms).join(', ')} ms)`);
  }
});

test('partial head then silence → closed after --header-timeout-ms', async () => {
  const conn = await RawConn.open(server.port);
  try {
    await conn.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const t0 = Date.now();
    assert.ok(await conn.waitClosed(5000), 'connection still open 5 s after a partial head');
    assert.ok(Date.now() - t0 >= 300, `closed after only ${Date.now() - t0} ms (timeout is 500 ms)`);
    assertOnlyTimeoutResponse(conn);
  } finally {
    conn.destroy();
  }
});

test('slowloris: a header byte every 100 ms does not keep the connection alive', async () => {
  const conn = await RawConn.open(server.port);
  try {
    await conn.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const deadline = Date.now() + 5000;
    while (!conn.closed && !conn.ended && Date.now() < deadline) {
      await conn.write('a');
      await sleep(100);
    }
    assert.ok(conn.closed || conn.ended || (await conn.waitClosed(1000)), 'still open after 5 s of trickling');
    assertOnlyTimeoutResponse(conn);
  } finally {
    conn.destroy();
  }
});

test('connect and send nothing → closed after the header timeout', async () => {
  const conn = await RawConn.open(server.port);
  try {
    assert.ok(await conn.waitClosed(5000), 'idle connection still open after 5 s');
  } finally {
    conn.destroy();
  }
});

test('body that stops arriving → closed after --body-timeout-ms', async () => {
  const conn = await RawConn.open(server.port);
  try {
    await conn.write('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
    assert.ok(await conn.waitClosed(5000), 'connection still open 5 s after a partial body');
  } finally {
    conn.destroy();
  }
});

test('a complete request in time is served normally', async () => {
  const conn = await RawConn.open(server.port);
  try {
    await conn.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    await sleep(100);
    await conn.write('\r\n');
    const res = await conn.readResponse();
    assert.equal(res?.status, 200);
  } finally {
    conn.destroy();
  }
  await assertHealthy(server.port);
});
