// The chat page (web/) in real headless Chromium, through `switchboard lb --mode sid` in front of
// two Switchboard nodes on one Redis: what a person sees of the cluster. Page 1 is served by
// node 1, page 2 by node 2 (each proven by its Engine.IO sid, which names its node); they chat in
// a room through Redis both ways. Node 1 is killed: page 1 reconnects through the balancer to
// node 2 by itself, re-joins its rooms (the page does that on every connect) and the chat goes
// on. Node 1 comes back; node 2 is drained through the balancer's admin endpoint: new sessions go
// to node 1, the pages' sessions stay where they are and keep chatting.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { io as ioClient } from 'socket.io-client';
import { startSbNode, waitClusterFormed } from './lib/cluster.mjs';
import { httpGet, nodeOfSid, startLb, waitFor } from './lib/lb.mjs';
import { startRedis } from './lib/redis-server.mjs';
import { binary } from './lib/server.mjs';

const kChromium = '/usr/bin/chromium';
const kArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const kWebRoot = path.join(path.dirname(binary), 'web');
const kTimeout = 15_000;

// Opens the chat page through `url` and records the sid of every Engine.IO handshake it makes
// (the answer to the one request without a sid): the last one is the page's current session.
async function openChat(browser, url, name) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.handshakes = [];
  page.on('response', async (r) => {
    if (!r.url().includes('/socket.io/') || r.url().includes('sid=') || r.request().method() !== 'GET') return;
    try {
      const m = (await r.text()).match(/^0(\{.*\})/);
      if (m) page.handshakes.push(JSON.parse(m[1]).sid);
    } catch {}
  });
  page.sid = () => page.handshakes[page.handshakes.length - 1];
  page.node = () => nodeOfSid(page.sid());
  await page.goto(`${url}/`);
  await page.waitForSelector('#status >> text=/^connected$/', { timeout: kTimeout });
  await waitFor(() => page.handshakes.length === 1, { timeoutMs: kTimeout, what: 'the handshake answer' });
  assert.deepEqual(errors, [], 'no page errors');
  await page.fill('#name', name);
  return page;
}

async function join(page, room) {
  await page.fill('#room', room);
  await page.click('#join');
  await page.waitForSelector(`#to option[value="${room}"]`, { state: 'attached', timeout: kTimeout });
}

async function say(page, room, text) {
  await page.selectOption('#to', room);
  await page.fill('#text', text);
  await page.click('#send');
}

const seen = (page, text) => page.waitForSelector(`#log >> text=${text}`, { timeout: kTimeout });
const count = (page, text) => page.$$eval('#log li:not(.sys) .text', (els, t) =>
  els.filter((e) => e.textContent === t).length, text);

const post = (lb, what, node) => httpGet(`${lb.url}/lb/${what}?backend=${node.addr}`, { method: 'POST' });

test('chat pages through the sid balancer on two nodes: cross-node chat, failover, drain', {
  skip: !fs.existsSync(kChromium) && 'no chromium',
}, async (t) => {
  assert.ok(fs.existsSync(path.join(kWebRoot, 'vendor/socket.io.min.js')),
    `${kWebRoot}/vendor/socket.io.min.js missing: build the sb_web target`);
  const redis = await startRedis();
  const nodeArgs = ['--threads', '1', '--web-root', kWebRoot];
  const nodes = [];
  let lb;
  let browser;
  const clients = [];
  try {
    for (const id of [1, 2]) {
      const n = await startSbNode(redis, { nodeId: id, args: nodeArgs });
      n.addr = `127.0.0.1:${n.port}`;
      nodes.push(n);
    }
    const [a, b] = nodes;
    await waitClusterFormed(redis, nodes);
    lb = await startLb(nodes, 'sid');
    browser = await chromium.launch({ executablePath: kChromium, args: kArgs });

    // A drained node takes no new session: drain B to land page 1 on A, then the other way round.
    assert.equal((await post(lb, 'drain', b)).status, 200);
    const p1 = await openChat(browser, lb.url, 'alice');
    assert.equal((await post(lb, 'undrain', b)).status, 200);
    assert.equal((await post(lb, 'drain', a)).status, 200);
    const p2 = await openChat(browser, lb.url, 'bob');
    assert.equal((await post(lb, 'undrain', a)).status, 200);
    assert.equal(p1.node(), 1, `page 1 sid ${p1.sid()}`);
    assert.equal(p2.node(), 2, `page 2 sid ${p2.sid()}`);

    // Joins are fire-and-forget; a lobby message sent after a join, once seen by the other page,
    // proves the join is in place on the sender's node.
    await join(p1, 'x');
    await say(p1, 'lobby', 'sync 1');
    await seen(p2, 'sync 1');
    await join(p2, 'x');
    await say(p2, 'lobby', 'sync 2');
    await seen(p1, 'sync 2');
    await say(p1, 'x', 'from node 1 to node 2');
    await seen(p2, 'from node 1 to node 2');
    await say(p2, 'x', 'from node 2 to node 1');
    await seen(p1, 'from node 2 to node 1');

    // Node 1 dies. Page 1 notices (its WebSocket tunnel or long-poll fails), reconnects with the
    // client's back-off through the balancer, which has taken node 1 out: a session on node 2.
    const t0 = Date.now();
    a.proc.kill('SIGKILL');
    await a.exited;
    await p1.waitForSelector('#status >> text=/^reconnecting…/', { timeout: kTimeout });
    await p1.waitForSelector('#status >> text=/^connected$/', { timeout: kTimeout });
    await waitFor(() => p1.handshakes.length >= 2 && p1.node() === 2,
      { timeoutMs: kTimeout, what: `page 1 on node 2 (handshakes ${p1.handshakes})` });
    t.diagnostic(`page 1 was back, on node 2, ${Date.now() - t0} ms after node 1 was killed`);
    // The page re-joined #x on connect; its own message, seen by page 2, orders that join.
    await say(p1, 'x', 'page 1 is back');
    await seen(p2, 'page 1 is back');
    await seen(p1, 'page 1 is back');
    await say(p2, 'x', 'welcome back');
    await seen(p1, 'welcome back');
    const p2sid = p2.sid();

    // Node 1 restarts on its address and is taken back; node 2 is drained.
    const a2 = await startSbNode(redis, { nodeId: 1, args: [...nodeArgs, '--port', String(a.port)] });
    a2.addr = a.addr;
    nodes[0] = a2;
    await waitClusterFormed(redis, nodes);
    await waitFor(async () => (await lb.backends()).backends.every((x) => x.up && x.nodeId >= 0),
      { timeoutMs: kTimeout, what: 'node 1 back in the balancer' });
    assert.equal((await post(lb, 'drain', b)).status, 200);
    for (let i = 0; i < 3; ++i) {
      const c = ioClient(lb.url, { forceNew: true, reconnection: false });
      clients.push(c);
      await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('connect_error', reject); });
      const who = await c.timeout(kTimeout).emitWithAck('whoami');
      assert.equal(who.node, '1', 'a new session avoided the drained node');
      if (i === 0) {
        assert.equal(await c.timeout(kTimeout).emitWithAck('join', 'x'), 'x');
        c.emit('chat', { room: 'x', text: 'new session on node 1' });
      }
    }
    // The pages' sessions on the drained node stay and keep chatting, across nodes again.
    for (const p of [p1, p2]) await seen(p, 'new session on node 1');
    await say(p2, 'x', 'still on the drained node');
    await seen(p1, 'still on the drained node');
    assert.equal(p2.sid(), p2sid);
    assert.equal(p1.handshakes.length, 2);
    assert.equal(p2.handshakes.length, 1);
    for (const p of [p1, p2]) assert.equal(await p.$eval('#status', (e) => e.textContent), 'connected');
    // Exactly once each, whatever path the message took.
    for (const text of ['from node 1 to node 2', 'page 1 is back', 'new session on node 1']) {
      assert.equal(await count(p2, text), 1, text);
    }
  } finally {
    for (const c of clients) c.disconnect();
    await browser?.close();
    await lb?.stop();
    for (const n of nodes) if (n.running) await n.stop();
    await redis.stop();
  }
});
