// The balancer's HTTP/1.1 and WebSocket proxying, checked against plain Node backends whose answers
// say who answered and what they received: keep-alive never carries a request to another session's
// node, X-Forwarded-For/-Proto are set (and a client's own X-Forwarded-For is not trusted),
// request bodies and chunked responses pass intact, and a WebSocket tunnel to a slow reader holds
// under backpressure (without it the balancer's queue would pass its limit and the tunnel would be
// cut).
//
// The backends announce their node id with an `X-Switchboard-Node` header on /healthz, the first
// way the balancer learns node ids.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { startLb } from './lib/lb.mjs';

// A sid naming `node` in Switchboard's layout (src/engineio/sid.h): tag, node, loop, random, CRC-8.
function sidFor(node) {
  const b = Buffer.alloc(15);
  b[0] = 0xb5;
  b[1] = node >> 8;
  b[2] = node & 0xff;
  b[3] = 0;
  crypto.randomFillSync(b, 4, 10);
  let crc = 0;
  for (let i = 0; i < 14; ++i) {
    crc ^= b[i];
    for (let bit = 0; bit < 8; ++bit) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  b[14] = crc;
  return b.toString('base64url');
}

function startBackend(nodeId) {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'X-Switchboard-Node': String(nodeId), 'Content-Length': 2 });
      res.end('ok');
      return;
    }
    const hash = crypto.createHash('sha256');
    let size = 0;
    req.on('data', (d) => {
      size += d.length;
      hash.update(d);
    });
    req.on('end', () => {
      if (req.url.startsWith('/chunked')) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });  // no length: chunked
        for (let i = 0; i < 50; ++i) res.write(`chunk ${i} ${'x'.repeat(1000)}\n`);
        res.end('end\n');
        return;
      }
      const body = JSON.stringify({
        node: nodeId,
        url: req.url,
        xff: req.headers['x-forwarded-for'],
        xfp: req.headers['x-forwarded-proto'],
        upstreamPort: req.socket.remotePort,
        size,
        sha: hash.digest('hex'),
      });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.on('message', (m) => {
      const cmd = JSON.parse(m.toString());
      if (cmd.flood) {
        // 64 KiB messages, as fast as the socket takes them; numbered for an order check.
        let i = 0;
        const pump = () => {
          while (i < cmd.flood && ws.bufferedAmount < 1 << 20) ws.send(Buffer.alloc(65536, i++ & 0xff));
          if (i < cmd.flood) setTimeout(pump, 5);
        };
        pump();
      } else {
        ws.send(JSON.stringify({ node: nodeId, echo: cmd, xff: req.headers['x-forwarded-for'] }));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    resolve({ nodeId, addr: `127.0.0.1:${port}`, close: () => new Promise((r) => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      server.close(r);
    }) });
  }));
}

function request(agent, url, { method = 'GET', body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers, localAddress: '127.0.0.70' }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
        text: Buffer.concat(chunks).toString(), localPort: res.socket?.localPort ?? req.socket.localPort }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('switchboard lb: HTTP and WebSocket proxying', () => {
  let backends;
  let lb;
  before(async () => {
    backends = [await startBackend(7), await startBackend(8)];
    lb = await startLb(backends, 'sid', ['--probe-path', '']);
  });
  after(async () => {
    await lb?.stop();
    for (const b of backends ?? []) await b.close();
  });

  test('keep-alive: requests for different sessions on one client connection each reach their node', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const order = [7, 8, 8, 7, 8, 7, 7];
      const ports = new Set();
      for (const node of order) {
        const r = await request(agent, `${lb.url}/socket.io/?EIO=4&transport=polling&sid=${sidFor(node)}`);
        assert.equal(r.status, 200);
        assert.equal(JSON.parse(r.text).node, node);
        ports.add(r.localPort);
      }
      assert.equal(ports.size, 1, 'the client connection was kept alive throughout');
    } finally {
      agent.destroy();
    }
  });

  test('X-Forwarded-For is the client address (a client-sent value is not trusted); proto is http', async () => {
    const r = await request(false, `${lb.url}/x`, { headers: { 'X-Forwarded-For': '6.6.6.6' } });
    const j = JSON.parse(r.text);
    assert.equal(j.xff, '127.0.0.70');
    assert.equal(j.xfp, 'http');
  });

  test('request bodies (3 MiB) and chunked responses pass intact', async () => {
    const body = crypto.randomBytes(3 << 20);
    const r = await request(false, `${lb.url}/upload`, { method: 'POST', body,
      headers: { 'Content-Length': body.length } });
    const j = JSON.parse(r.text);
    assert.equal(j.size, body.length);
    assert.equal(j.sha, crypto.createHash('sha256').update(body).digest('hex'));
    const c = await request(false, `${lb.url}/chunked`);
    assert.equal(c.status, 200);
    assert.equal(c.text.split('\n').filter(Boolean).length, 51);
    assert.ok(c.text.endsWith('end\n'));
  });

  test('WebSocket tunnel: echo, and 32 MiB to a slow reader arrive whole and in order', async () => {
    const ws = new WebSocket(`${lb.url.replace('http', 'ws')}/ws`, { localAddress: '127.0.0.71' });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const next = () => new Promise((resolve) => ws.once('message', (m) => resolve(m)));
    ws.send(JSON.stringify({ hello: 1 }));
    const echo = JSON.parse((await next()).toString());
    assert.deepEqual(echo.echo, { hello: 1 });
    assert.equal(echo.xff, '127.0.0.71');

    const total = 512;  // x 64 KiB = 32 MiB, far above the balancer's 4 MiB per-connection limit
    let got = 0;
    let ok = true;
    const done = new Promise((resolve, reject) => {
      ws.on('message', (m) => {
        if (m.length !== 65536 || m[0] !== (got & 0xff)) ok = false;
        ++got;
        if (got === total) resolve();
      });
      ws.once('close', () => reject(new Error(`tunnel closed after ${got} messages`)));
    });
    ws.send(JSON.stringify({ flood: total }));
    // Read slowly at first: the socket is paused so the kernel buffers and then the balancer's
    // queue fill up; backpressure must stop it reading from the backend instead of overflowing.
    ws._socket.pause();
    await new Promise((r) => setTimeout(r, 1500));
    ws._socket.resume();
    await done;
    assert.ok(ok, 'messages arrived whole and in order');
    ws.close();
  });
});
