// `switchboard lb` in every sticky mode in front of three real `switchboard serve` nodes, driven by
// the official socket.io-client, each client from its own loopback source address (127.0.0.N).
// Polling-only clients and default clients (polling, then the WebSocket upgrade) complete
// acknowledged round trips; every request of a session reaches the node its sid names (a node that
// does not own a sid answers "Session ID unknown" and the client would disconnect).
// Control: `--mode round-robin` (not sticky) breaks polling clients but not WebSocket-only ones.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { httpGet, nodeOfSid, roundTrips, startLb, startNodes } from './lib/lb.mjs';

const kClients = 6;
const source = (i) => `127.0.0.${10 + i}`;

async function clientsThrough(url, opts) {
  const runs = [];
  for (let i = 0; i < kClients; ++i) runs.push(roundTrips(url, { source: source(i), ...opts }));
  return Promise.all(runs);
}

describe('switchboard lb: sticky modes', () => {
  let nodes;
  before(async () => {
    nodes = await startNodes(3);
  });
  after(async () => {
    for (const n of nodes ?? []) await n.stop();
  });

  for (const mode of ['sid', 'ip-hash', 'cookie']) {
    describe(`--mode ${mode}`, () => {
      let lb;
      before(async () => {
        lb = await startLb(nodes, mode);
      });
      after(async () => {
        await lb?.stop();
      });

      test('polling-only clients complete acknowledged round trips on one node each', async () => {
        const res = await clientsThrough(lb.url, { transports: ['polling'], withCredentials: mode === 'cookie' });
        for (const r of res) {
          assert.equal(r.transport, 'polling');
          assert.ok([1, 2, 3].includes(r.node), `sid names node ${r.node}`);
        }
        // Not all on one node: the balancer balances.
        assert.ok(new Set(res.map((r) => r.node)).size >= 2, `nodes used: ${res.map((r) => r.node)}`);
      });

      test('default clients (polling, then upgrade to WebSocket) complete round trips', async () => {
        const res = await clientsThrough(lb.url, { waitUpgrade: true, withCredentials: mode === 'cookie' });
        for (const r of res) assert.equal(r.transport, 'websocket');
      });

      if (mode === 'ip-hash') {
        test('the same source address always lands on the same node', async () => {
          const a = await roundTrips(lb.url, { source: source(1), transports: ['polling'], rounds: 1 });
          const b = await roundTrips(lb.url, { source: source(1), transports: ['polling'], rounds: 1 });
          assert.equal(a.node, b.node);
        });
      }

      if (mode === 'cookie') {
        test('the handshake sets the affinity cookie and the cookie decides the node', async () => {
          // Learn each node's (opaque) token from handshakes; cookie mode balances them by load.
          const tokens = new Map();
          let sid;
          for (let k = 0; k < 30 && tokens.size < 3; ++k) {
            const hs = await httpGet(`${lb.url}/socket.io/?EIO=4&transport=polling`);
            assert.equal(hs.status, 200);
            const setCookie = hs.headers['set-cookie']?.[0] ?? '';
            assert.match(setCookie, /^sblb=[0-9a-f]{16}; Path=\/; HttpOnly; SameSite=Lax$/);
            sid = JSON.parse(hs.body.slice(1)).sid;
            tokens.set(nodeOfSid(sid), setCookie.split(';')[0]);
          }
          assert.equal(tokens.size, 3);
          // The cookie wins over the sid: only the owner's cookie reaches a node that knows it.
          const statuses = {};
          for (const [node, cookie] of tokens) {
            const r = await httpGet(`${lb.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
              headers: { cookie: `other=1; ${cookie}` },
            });
            statuses[node] = r.status;
          }
          const owner = nodeOfSid(sid);
          for (const [node, status] of Object.entries(statuses)) {
            assert.equal(status, Number(node) === owner ? 200 : 400, JSON.stringify(statuses));
          }
        });
      }
    });
  }

  describe('--mode round-robin (control: not sticky)', () => {
    let lb;
    before(async () => {
      lb = await startLb(nodes, 'round-robin');
    });
    after(async () => {
      await lb?.stop();
    });

    test('polling clients fail: their requests are spread over nodes that do not know the sid', async () => {
      const res = await Promise.allSettled([0, 1, 2].map((i) =>
        roundTrips(lb.url, { source: source(i), transports: ['polling'], rounds: 3, timeoutMs: 5000 })));
      for (const r of res) {
        assert.equal(r.status, 'rejected');
        // The wrong node answered 400 "Session ID unknown" to a poll: a transport error.
        assert.match(r.reason.message, /transport error|connect_error/);
      }
    });

    test('WebSocket-only clients succeed: one connection, one node', async () => {
      const res = await clientsThrough(lb.url, { transports: ['websocket'] });
      for (const r of res) assert.equal(r.transport, 'websocket');
    });
  });
});
