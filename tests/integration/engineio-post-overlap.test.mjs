// Engine.IO long-polling: at most one POST in flight per session. A second POST that arrives while
// the first one's body is still streaming is refused with 400 and the session closes, as Node's
// engine.io does ("data request overlap from client"); a POST whose connection closes mid-body
// closes the session too ("data request connection closed prematurely").
//
// One loop (--threads 1): the overlap is detected when the second POST's head arrives on the
// session's own loop. (A POST that arrives on another loop is checked by the owner only when its
// body is handed over — docs/engineio.md.) The first POST carries `Expect: 100-continue` so the
// test knows, without timing, that the server has read its head: the interim answer is written
// right after the head hook ran.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startServer } from './lib/server.mjs';
import { pollPath, rawHandshake, request } from './lib/engineio.mjs';

let server;
before(async () => {
  server = await startServer(['--threads', '1']);
});
after(async () => {
  await server?.stop();
});

const kUnknownSid = '{"code":1,"message":"Session ID unknown"}';

/** A raw connection that collects what the server sends. */
function rawConnect(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port }, () => resolve(sock));
    sock.received = '';
    sock.ended = false;
    sock.on('data', (d) => {
      sock.received += d.toString('latin1');
      sock.emit('progress');
    });
    sock.on('close', () => {
      sock.ended = true;
      sock.emit('progress');
    });
    sock.on('error', () => {}); // a reset after the server closed is expected in some tests
    sock.once('error', reject);
  });
}

/** Resolves once `pred(sock)` holds (checked on every arrival), or rejects after timeoutMs. */
function waitFor(sock, pred, what, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pred(sock)) return;
      clearTimeout(timer);
      sock.off('progress', check);
      resolve();
    };
    const timer = setTimeout(() => {
      sock.off('progress', check);
      reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(sock.received)}`));
    }, timeoutMs);
    sock.on('progress', check);
    check();
  });
}

/** Starts a POST of `total` body bytes, sends `partial` of them, and waits until the head was read. */
async function startSlowPost(sid, total, partial) {
  const sock = await rawConnect(server.port);
  sock.write(
    `POST ${pollPath(sid)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\n` +
      `Content-Length: ${total}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await waitFor(sock, (s) => s.received.includes('HTTP/1.1 100 Continue\r\n\r\n'), '100 Continue');
  sock.write(partial);
  return sock;
}

test('a second POST while the first body streams → 400, the session closes', async () => {
  const { sid } = await rawHandshake(server.port);
  const body = '4' + 'x'.repeat(999);
  const first = await startSlowPost(sid, body.length, body.slice(0, 100));
  try {
    const second = await request(server.port, pollPath(sid), { method: 'POST', body: '4hi' });
    assert.equal(second.status, 400);
    assert.equal(second.body.length, 0); // Node: res.writeHead(400); res.end()

    const get = await request(server.port, pollPath(sid));
    assert.equal(get.status, 400);
    assert.equal(get.body.toString(), kUnknownSid);

    // The first POST is not left hanging: once its body is complete it is answered (the
    // session is gone by then).
    first.write(body.slice(100));
    await waitFor(first, (s) => /\r\n\r\n.*HTTP\/1\.1 400 /s.test(s.received), 'the first POST answer');
    assert.ok(first.received.endsWith(kUnknownSid), first.received);
  } finally {
    first.destroy();
  }
});

test('a POST whose connection closes mid-body closes the session (Node)', async () => {
  const { sid } = await rawHandshake(server.port);
  // A GET parked before the abort is released with the close packet; one that arrives after
  // it finds the session gone. Either way the session must end.
  const parked = request(server.port, pollPath(sid));
  const post = await startSlowPost(sid, 1000, '4abc');
  post.destroy();
  const r = await parked;
  if (r.status === 200) {
    assert.equal(r.body.toString(), '1');
  } else {
    assert.equal(r.status, 400);
    assert.equal(r.body.toString(), kUnknownSid);
  }
  const get = await request(server.port, pollPath(sid));
  assert.equal(get.status, 400);
  assert.equal(get.body.toString(), kUnknownSid);
});

test('POSTs one after another, slow or not, keep working (the in-flight mark is cleared)', async () => {
  const { sid } = await rawHandshake(server.port);
  const body = '4slow message';
  const slow = await startSlowPost(sid, body.length, body.slice(0, 3));
  try {
    slow.write(body.slice(3));
    await waitFor(slow, (s) => /\r\n\r\nok$/.test(s.received), 'ok for the slow POST');
  } finally {
    slow.destroy();
  }
  for (const msg of ['one', 'two']) {
    const res = await request(server.port, pollPath(sid), { method: 'POST', body: '4' + msg });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'ok');
  }
  // The echo app sends every message back: the three messages arrive on the next GETs, in order.
  let got = '';
  while (got.split('\x1e').length < 3) {
    const res = await request(server.port, pollPath(sid));
    assert.equal(res.status, 200);
    got += (got ? '\x1e' : '') + res.body.toString();
  }
  assert.equal(got, '4slow message\x1e4one\x1e4two');
});
