// --max-connections: connections past the limit are refused (closed without being served) and
// counted; a freed slot can be used again.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { getMetrics, startServer, sumMetrics, waitUntil } from './lib/server.mjs';
import { closed, connect, nextMessage, send } from './lib/ws-client.mjs';

let server;
before(async () => {
  server = await startServer(['--max-connections', '50']);
});
after(async () => {
  await server?.stop();
});

/** Tries one WebSocket; resolves { ok: true, ws } when it opened and echoes, else { ok: false, why }. */
async function tryConnect() {
  let ws;
  try {
    ws = await connect(server.port, '/raw/echo');
  } catch (e) {
    return { ok: false, why: e.message };
  }
  try {
    const r = nextMessage(ws, 3000);
    await send(ws, 'are you there');
    const m = await r;
    return m.data.toString() === 'are you there' ? { ok: true, ws } : { ok: false, why: 'wrong echo' };
  } catch (e) {
    ws.terminate();
    return { ok: false, why: e.message };
  }
}

// Metrics that could count a refusal: a dedicated counter or a close reason naming the limit.
const kRefusal = /(reject|refus|limit|max_conn|too_many|over_capacity)/i;

test('the 51st connection is refused and counted; a freed slot is reusable', async () => {
  const before0 = sumMetrics(await getMetrics(server.port), kRefusal);
  const clients = [];
  try {
    // /metrics above used a connection; wait until the server has released it.
    for (let i = 0; i < 50; i++) {
      const r = await waitUntil(async () => {
        const t = await tryConnect();
        return t.ok ? t : null;
      }, { timeoutMs: 5000, what: `connection ${i + 1} of 50` }).catch((e) => ({ ok: false, why: e.message }));
      assert.ok(r.ok, `connection ${i + 1} of 50 failed: ${r.why}`);
      clients.push(r.ws);
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const extra = await tryConnect();
      if (extra.ok) extra.ws.terminate();
      assert.equal(extra.ok, false, `connection ${51 + attempt} was served`);
    }
    // The 50 are all still working.
    for (const ws of clients) {
      const r = nextMessage(ws);
      await send(ws, 'still');
      assert.equal((await r).data.toString(), 'still');
    }
    // Free five slots: new connections work again.
    for (const ws of clients.splice(0, 5)) {
      const c = closed(ws);
      ws.close(1000);
      await c;
    }
    const again = await waitUntil(async () => {
      const r = await tryConnect();
      return r.ok ? r : null;
    }, { timeoutMs: 5000, what: 'a connection after freeing slots' });
    clients.push(again.ws);

    const after0 = await waitUntil(async () => {
      const v = sumMetrics(await getMetrics(server.port), kRefusal);
      return v >= before0 + 3 ? v : 0;
    }, { timeoutMs: 5000, what: 'a refusal metric (name or reason matching ' + kRefusal + ') to grow by 3' });
    assert.ok(after0 >= before0 + 3);
  } finally {
    for (const ws of clients) ws.terminate();
  }
});
