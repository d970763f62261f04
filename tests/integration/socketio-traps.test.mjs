// The traps of /work/shared/reference/socketio-protocol.md that the other suites do not check
// on the wire, each against exact bytes with raw WebSocket / polling clients (the official
// client hides them): namespace forms, exact CONNECT / CONNECT_ERROR bodies, the connection
// kept after leaving every namespace, every protocol violation closing the connection, unknown
// ack ids, the binary polling form, disconnect(true), noop to every GET while upgrading, an
// aborted probe, an octet-stream POST and a cancelled GET.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { RS, pollPath, rawHandshake, request } from './lib/engineio.mjs';
import { startServer, waitUntil } from './lib/server.mjs';

let server;
const P = '/socket.io/';
const sockets = new Set();

// A raw Engine.IO WebSocket on /socket.io/ that answers pings by itself and keeps every other
// message (text as string, binary as Buffer) in order.
function rawWs(query = 'EIO=4&transport=websocket') {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${P}?${query}`, { perMessageDeflate: false });
    sockets.add(ws);
    ws.msgs = [];
    ws.waiters = [];
    ws.pings = 0;
    ws.closed = new Promise((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (data, isBinary) => {
      const m = isBinary ? data : data.toString();
      if (m === '2' && ws.autoPong !== false) {
        ws.pings++;
        ws.send('3');
      }
      const w = ws.waiters.shift();
      if (w) w(m);
      else ws.msgs.push(m);
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function next(ws, timeoutMs = 5000) {
  if (ws.msgs.length) return Promise.resolve(ws.msgs.shift());
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no message within timeout')), timeoutMs);
    ws.waiters.push((m) => {
      clearTimeout(t);
      resolve(m);
    });
  });
}

// Next message that is not a heartbeat.
async function nextPacket(ws) {
  for (;;) {
    const m = await next(ws);
    if (m !== '2') return m;
  }
}

function closedWithin(ws, timeoutMs = 5000) {
  return Promise.race([ws.closed, new Promise((_, rej) => setTimeout(() => rej(new Error('not closed')), timeoutMs))]);
}

// An open Engine.IO WebSocket connected to the main namespace; resolves with [ws, socket id].
async function connectedWs() {
  const ws = await rawWs();
  const open = await next(ws);
  assert.match(open, /^0\{/);
  ws.send('40');
  const reply = await nextPacket(ws);
  assert.match(reply, /^40\{/);
  return [ws, JSON.parse(reply.slice(2)).sid, JSON.parse(open.slice(1)).sid];
}

before(async () => {
  // Short heartbeat: "the connection stays after 41" is shown by the next frame being a ping.
  server = await startServer(['--threads', '2', '--ping-interval-ms', '400', '--ping-timeout-ms', '3000'],
    { env: { SB_SIO_TEST: '1' } });
});
after(async () => {
  for (const ws of sockets) ws.terminate();
  await server?.stop();
});

describe('namespaces', () => {
  test('CONNECT reply has exactly {sid}, a fresh id distinct from the Engine.IO sid', async () => {
    const [ws, sid, eioSid] = await connectedWs();
    assert.equal(sid.length, 20);
    assert.notEqual(sid, eioSid);
    ws.send('40/admin,{"token":"secret"}');
    const reply = await nextPacket(ws);
    assert.match(reply, /^40\/admin,\{/);
    assert.deepEqual(Object.keys(JSON.parse(reply.slice('40/admin,'.length))), ['sid']);
    assert.equal(await nextPacket(ws), '42/admin,["welcome","admin"]');
    ws.close();
  });

  test('"40/nsp" and "40/nsp," are the same namespace; refusals are exact, the connection stays', async () => {
    const ws = await rawWs();
    await next(ws);
    const refusal = '44/admin,{"message":"not authorized","data":{"reason":"bad token"}}';
    ws.send('40/admin');
    assert.equal(await nextPacket(ws), refusal);
    ws.send('40/admin,');
    assert.equal(await nextPacket(ws), refusal);
    ws.send('40/random');
    assert.equal(await nextPacket(ws), '44/random,{"message":"Invalid namespace"}');
    ws.send('40/random,{}');
    assert.equal(await nextPacket(ws), '44/random,{"message":"Invalid namespace"}');
    ws.send('40');
    assert.match(await nextPacket(ws), /^40\{"sid":"/);
    ws.close();
  });

  test('leaving every namespace keeps the Engine.IO connection: the next frame is a ping', async () => {
    const [ws] = await connectedWs();
    ws.send('41');
    assert.equal(await next(ws), '2');
    ws.send('40');  // and it can join again
    assert.match(await nextPacket(ws), /^40\{"sid":"/);
    ws.close();
  });
});

describe('protocol violations close the connection', () => {
  const cases = [
    ['malformed packet type', '4abc'],
    ['EVENT that is not an array', '42{}'],
    ['garbage before the array', '42abc["x"]'],
    ['CONNECT with a string payload', '40"abc"', { before: false }],
    ['reserved event name', '42["connect"]'],
    ['reserved event name (disconnecting)', '42["disconnecting"]'],
    ['CONNECT for a namespace already joined', '40'],
    ['a client CONNECT_ERROR', '44{"message":"x"}'],
    ['an event for a namespace not joined', '42/admin,["x"]'],
    ['more than 10 attachments', '4511-["x",' + Array.from({ length: 11 }, (_, i) => `{"_placeholder":true,"num":${i}}`).join(',') + ']'],
    ['a placeholder out of range', '451-["x",{"_placeholder":true,"num":1}]'],
  ];
  for (const [name, packet, { before: join = true } = {}] of cases) {
    test(`${name}: ${packet.slice(0, 40)}`, async () => {
      let ws;
      if (join) {
        [ws] = await connectedWs();
      } else {
        ws = await rawWs();
        await next(ws);
      }
      ws.send(packet);
      await closedWithin(ws);
    });
  }

  test('a binary message with no BINARY_EVENT pending', async () => {
    const [ws] = await connectedWs();
    ws.send(Buffer.from([1, 2, 3]));
    await closedWithin(ws);
  });

  test('a text packet while attachments are still due', async () => {
    const [ws] = await connectedWs();
    ws.send('451-["x",{"_placeholder":true,"num":0}]');
    ws.send('42["x"]');
    await closedWithin(ws);
  });
});

describe('events and acks', () => {
  test('an ACK for an unknown id is ignored, the connection kept', async () => {
    const [ws] = await connectedWs();
    ws.send('4399["nobody asked"]');
    ws.send('427["echo","still here"]');
    assert.equal(await nextPacket(ws), '437["still here"]');
    ws.close();
  });

  test('binary over polling: BINARY_ACK with attachments as b<base64> entries', async () => {
    const { sid } = await rawHandshake(server.port, P);
    const path = pollPath(sid, P);
    assert.equal((await request(server.port, path, { method: 'POST', body: '40' })).status, 200);
    assert.match((await request(server.port, path)).body.toString(), /^40\{"sid":"/);
    const body = `452-3["echo",{"_placeholder":true,"num":0},{"n":{"_placeholder":true,"num":1}}]${RS}bAQID${RS}bBA==`;
    assert.equal((await request(server.port, path, { method: 'POST', body })).status, 200);
    const got = (await request(server.port, path)).body.toString();
    assert.equal(got, `462-3[{"_placeholder":true,"num":0},{"n":{"_placeholder":true,"num":1}}]${RS}bAQID${RS}bBA==`);
  });

  test('disconnect(true): DISCONNECT, then the WebSocket closes without an Engine.IO close', async () => {
    const [ws] = await connectedWs();
    ws.send('42["bye-all"]');
    assert.equal(await nextPacket(ws), '41');
    const code = await closedWithin(ws);
    assert.equal(code, 1005);
    assert.ok(!ws.msgs.includes('1'));
  });
});

describe('Engine.IO traps under /socket.io/', () => {
  test('every GET while the upgrade is probed is answered with a noop', async () => {
    const { sid } = await rawHandshake(server.port, P);
    const path = pollPath(sid, P);
    const parked = request(server.port, path);  // parked: nothing to send yet
    const ws = await rawWs(`EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`);
    ws.send('2probe');
    assert.equal(await next(ws), '3probe');
    // Released at once: a noop (or a heartbeat that was queued meanwhile), never held.
    const released = /^[26](\x1e[26])*$/;
    assert.match((await parked).body.toString(), released);
    // The client may poll again before it sends 5: answered at once, again and again.
    for (let i = 0; i < 3; i++) assert.match((await request(server.port, path)).body.toString(), released);
    ws.send('5');
    ws.send('40');
    assert.match(await nextPacket(ws), /^40\{"sid":"/);
    ws.close();
  });

  test('anything but 2probe / 5 on the probe closes it; polling goes on', async () => {
    const { sid } = await rawHandshake(server.port, P);
    const path = pollPath(sid, P);
    const ws = await rawWs(`EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`);
    ws.send('40');
    await closedWithin(ws);
    assert.equal((await request(server.port, path, { method: 'POST', body: '40' })).status, 200);
    assert.match((await request(server.port, path)).body.toString(), /^40\{"sid":"/);
  });

  test('an octet-stream POST is refused (400) and ends the session', async () => {
    const { sid } = await rawHandshake(server.port, P);
    const path = pollPath(sid, P);
    const r = await request(server.port, path,
      { method: 'POST', body: '40', headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 400);
    const after = await request(server.port, path);
    assert.equal(after.status, 400);
    assert.equal(after.body.toString(), '{"code":1,"message":"Session ID unknown"}');
  });

  test('a cancelled GET ends the session', async () => {
    const { sid } = await rawHandshake(server.port, P);
    const path = pollPath(sid, P);
    assert.equal((await request(server.port, path, { method: 'POST', body: '40' })).status, 200);
    assert.match((await request(server.port, path)).body.toString(), /^40\{/);
    // A GET that parks (nothing queued), then its connection is cut.
    const req = http.request({ host: '127.0.0.1', port: server.port, path, agent: false });
    req.on('error', () => {});
    const written = new Promise((r) => req.on('finish', r));
    req.end();
    await written;  // the request left: the server parks it, then sees the connection end
    req.destroy();
    await waitUntil(async () => (await request(server.port, path)).status === 400,
      { what: 'the session to be gone' });
  });
});
