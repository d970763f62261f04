// The HAProxy and nginx configurations of deploy/ (generated for these nodes by deploy/gen-config)
// in front of three real `switchboard serve` nodes: HAProxy with cookie insertion, HAProxy with
// `balance source` + `hash-type consistent`, nginx with `hash $remote_addr consistent`. Official
// socket.io-client instances, each from its own loopback source address, polling-only and default
// (polling then WebSocket), complete acknowledged round trips with their whole session on the node
// their sid names. HAProxy and nginx run as our own non-daemon processes on free ports.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { roundTrips, startHaproxy, startNginx, startNodes } from './lib/lb.mjs';

const kClients = 6;
const haveHaproxy = fs.existsSync('/usr/sbin/haproxy');
const haveNginx = fs.existsSync('/usr/sbin/nginx');

async function clientsThrough(url, base, opts, count = kClients) {
  const runs = [];
  for (let i = 0; i < count; ++i) runs.push(roundTrips(url, { source: `127.0.0.${base + i}`, ...opts }));
  return Promise.all(runs);
}

describe('deploy/ configs: HAProxy and nginx sticky sessions', () => {
  let nodes;
  before(async () => {
    nodes = await startNodes(3);
  });
  after(async () => {
    for (const n of nodes ?? []) await n.stop();
  });

  describe('HAProxy', { skip: !haveHaproxy && '/usr/sbin/haproxy missing' }, () => {
    let hap;
    before(async () => {
      hap = await startHaproxy(nodes);
    });
    after(async () => {
      await hap?.stop();
    });

    test('cookie insert: polling-only and upgrading clients (with a cookie jar) stay on one node', async () => {
      const polling = await clientsThrough(hap.cookieUrl, 100, { transports: ['polling'], withCredentials: true });
      for (const r of polling) assert.equal(r.transport, 'polling');
      assert.ok(new Set(polling.map((r) => r.node)).size >= 2, 'spread over nodes');
      const upgraded = await clientsThrough(hap.cookieUrl, 110, { waitUpgrade: true, withCredentials: true });
      for (const r of upgraded) assert.equal(r.transport, 'websocket');
    });

    test('balance source + hash-type consistent: polling-only and upgrading clients', async () => {
      const polling = await clientsThrough(hap.sourceUrl, 120, { transports: ['polling'] });
      for (const r of polling) assert.equal(r.transport, 'polling');
      const upgraded = await clientsThrough(hap.sourceUrl, 130, { waitUpgrade: true });
      for (const r of upgraded) assert.equal(r.transport, 'websocket');
    });
  });

  describe('nginx', { skip: !haveNginx && '/usr/sbin/nginx missing' }, () => {
    let ngx;
    before(async () => {
      ngx = await startNginx(nodes);
    });
    after(async () => {
      await ngx?.stop();
    });

    test('hash $remote_addr consistent: polling-only and upgrading clients', async () => {
      // 12 addresses, not 6: the ring is built from the nodes' (random) ports, and an unlucky
      // ring put all 6 addresses of an earlier version of this test on one node (CI, once).
      const polling = await clientsThrough(ngx.url, 140, { transports: ['polling'] }, 12);
      for (const r of polling) assert.equal(r.transport, 'polling');
      assert.ok(new Set(polling.map((r) => r.node)).size >= 2, 'spread over nodes');
      const upgraded = await clientsThrough(ngx.url, 160, { waitUpgrade: true });
      for (const r of upgraded) assert.equal(r.transport, 'websocket');
    });
  });
});
