// /readyz on every built-in app: 200 "ready" while serving, 503 "draining" once SIGTERM started
// the drain (--drain-delay-ms keeps the node serving meanwhile); /healthz stays 200.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from './lib/server.mjs';

async function get(port, path) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

for (const app of ['chat', 'conformance', 'bench']) {
  test(`${app}: /readyz is 200 "ready" while serving`, async () => {
    const s = await startServer(['--app', app]);
    try {
      assert.deepEqual(await get(s.port, '/readyz'), { status: 200, body: 'ready' });
      assert.equal((await get(s.port, '/healthz')).status, 200);
    } finally {
      await s.stop();
    }
  });
}

test('after SIGTERM: /readyz 503 "draining" during --drain-delay-ms, then the node exits', async () => {
  const s = await startServer(['--app', 'bench', '--drain-delay-ms', '1500']);
  assert.equal((await get(s.port, '/readyz')).status, 200);
  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await get(s.port, '/readyz'), { status: 503, body: 'draining' });
  assert.equal((await get(s.port, '/healthz')).status, 200, 'still alive while draining');
  await s.exited;
  assert.ok(Date.now() - t0 >= 1200, 'the drain delay was honoured');
  await s.stop(); // checks the exit code and stderr (no second signal: it has exited)
});

test('a second signal cuts the drain short', async () => {
  const s = await startServer(['--drain-delay-ms', '20000']);
  s.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  await s.stop({ signal: 'SIGINT', timeoutMs: 5000 });
  assert.ok(Date.now() - t0 < 5000);
});
