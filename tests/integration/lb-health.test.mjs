// `switchboard lb` operations against three real nodes: a client whose source address changes
// keeps its session in sid mode; a drained node takes no new sessions but keeps its own; a dead
// node is taken out by the health checks and, restarted, comes back without moving anyone;
// the admin endpoints answer. (Forwarded headers and keep-alive routing: lb-proxy.test.mjs.)

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectClient, httpGet, roundTrips, startLb, startNodes, startServer, waitFor }
  from './lib/lb.mjs';

describe('switchboard lb: health, drain, roaming clients', () => {
  let nodes;
  let lb;
  before(async () => {
    nodes = await startNodes(3);
    lb = await startLb(nodes, 'sid');
  });
  after(async () => {
    await lb?.stop();
    for (const n of nodes ?? []) if (n.running) await n.stop();
  });

  test('sid mode: a client whose source address changes on every connection keeps its session', async () => {
    // No keep-alive: every request is a new TCP connection from the next address.
    const sources = ['127.0.0.41', '127.0.0.42', '127.0.0.43', '127.0.0.44'];
    const r = await roundTrips(lb.url, { source: sources, transports: ['polling'], keepAlive: false,
      rounds: 5 });
    assert.equal(r.transport, 'polling');
    const up = await roundTrips(lb.url, { source: sources, keepAlive: false, waitUpgrade: true });
    assert.equal(up.transport, 'websocket');
  });

  test('drain: no new sessions on the drained node, its existing sessions continue', async () => {
    const keep = await connectClient(lb.url, { source: '127.0.0.50', transports: ['polling'] });
    const drained = nodes.find((n) => n.nodeId === keep.node);
    const res = await httpGet(`${lb.url}/lb/drain?backend=${drained.addr}`, { method: 'POST' });
    assert.equal(res.status, 200);
    try {
      for (let i = 0; i < 6; ++i) {
        const r = await roundTrips(lb.url, { source: `127.0.0.${51 + i}`, transports: ['polling'], rounds: 1 });
        assert.notEqual(r.node, keep.node, 'a new session went to the drained node');
        await keep.ack({ i });  // the drained node's session still works (long-polling)
      }
      const { backends } = await lb.backends();
      assert.equal(backends.find((b) => b.backend === drained.addr).drained, true);
    } finally {
      keep.close();
      const u = await httpGet(`${lb.url}/lb/undrain?backend=${drained.addr}`, { method: 'POST' });
      assert.equal(u.status, 200);
    }
    assert.equal((await httpGet(`${lb.url}/lb/drain?backend=1.2.3.4:5`, { method: 'POST' })).status, 404);
  });

  test('health: a dead node is taken out, and back in when it returns; sessions never move', async () => {
    const victim = nodes[2];
    const stay = await connectClient(lb.url, { source: '127.0.0.60', transports: ['polling'] });
    // `stay` must not live on the victim; if it does, pick another client.
    let keep = stay;
    for (let i = 61; keep.node === victim.nodeId && i < 80; ++i) {
      keep.close();
      keep = await connectClient(lb.url, { source: `127.0.0.${i}`, transports: ['polling'] });
    }
    assert.notEqual(keep.node, victim.nodeId);
    try {
      await victim.stop();
      await waitFor(async () => !(await lb.backends()).backends.find((b) => b.backend === victim.addr).up,
        { what: 'the dead node to be marked down' });
      for (let i = 0; i < 4; ++i) {
        const r = await roundTrips(lb.url, { source: `127.0.0.${81 + i}`, transports: ['polling'], rounds: 1 });
        assert.notEqual(r.node, victim.nodeId);
      }
      await keep.ack({ during: 'outage' });

      // Same address, same node id: the balancer learns it again and sends it new sessions.
      const back = await startServer(['--threads', '1', '--node-id', String(victim.nodeId),
        '--app', 'conformance', '--ping-interval-ms', '1000', '--ping-timeout-ms', '5000',
        '--port', String(victim.port)]);
      back.nodeId = victim.nodeId;
      back.addr = victim.addr;
      nodes[2] = back;
      await waitFor(async () => {
        const b = (await lb.backends()).backends.find((x) => x.backend === victim.addr);
        return b.up && b.nodeId === victim.nodeId;
      }, { what: 'the node to be back' });
      await keep.ack({ after: 'recovery' });
      assert.equal(keep.socket.io.engine.id, keep.sid);
      const seen = new Set();
      for (let i = 0; i < 6; ++i) {
        seen.add((await roundTrips(lb.url, { source: `127.0.0.${90 + i}`, transports: ['polling'], rounds: 1 })).node);
      }
      assert.ok(seen.has(victim.nodeId), `new sessions reach the recovered node: ${[...seen]}`);
    } finally {
      keep.close();
    }
  });

  test('/lb/metrics and /lb/backends answer; a request the parser refuses gets its status', async () => {
    const m = await httpGet(`${lb.url}/lb/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.body, /sb_lb_requests_total \d+/);
    assert.match(m.body, /sb_lb_backend_up\{backend="127\.0\.0\.1:\d+"\} 1/);
    const b = await lb.backends();
    assert.equal(b.mode, 'sid');
    // A request the balancer cannot parse is refused with the HTTP layer's status.
    const bad = await httpGet(`${lb.url}/x`, { headers: { 'transfer-encoding': 'chunked' }, method: 'POST' })
      .catch((e) => ({ status: e.message }));
    assert.ok([400, 411].includes(bad.status), String(bad.status));
  });
});
