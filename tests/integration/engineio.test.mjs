// Engine.IO v4 server against the official engine.io-client and raw requests: the three client
// modes, cross-loop polling and upgrades on a two-loop node, the exact error answers, polling
// rules (one GET at a time, body limit, compression, close), heartbeat and upgrade timeouts.
// The server mounts the echo app of apps/switchboard/engineio_app.cpp on /engine.io/.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { getMetrics, sleep, startServer, sumMetrics, waitUntil } from './lib/server.mjs';
import {
  RS,
  closedWith,
  echo,
  eioConnect,
  nextMessage,
  pollPath,
  rawHandshake,
  rawWs,
  request,
  upgraded,
  wsClosed,
  wsNext,
} from './lib/engineio.mjs';

let server;
before(async () => {
  server = await startServer(['--threads', '2']);
});
after(async () => {
  await server?.stop();
});

describe('engine.io-client', () => {
  for (const transports of [['polling'], ['websocket']]) {
    test(`${transports[0]} only: text and binary echo`, async () => {
      const s = await eioConnect(server.port, { transports });
      try {
        assert.equal(s.transport.name, transports[0]);
        assert.equal(await echo(s, 'hello'), 'hello');
        assert.equal(await echo(s, 'unicode: héllo — 日本語 🎉'), 'unicode: héllo — 日本語 🎉');
        // engine.io-parser reports an empty message as undefined (Node's server behaves the same).
        assert.equal((await echo(s, '')) ?? '', '');
        const bin = crypto.randomBytes(1000);
        assert.deepEqual(Buffer.from(await echo(s, bin)), bin);
        const big = 'x'.repeat(200_000);
        assert.equal(await echo(s, big), big);
        assert.equal(s.transport.name, transports[0]);
      } finally {
        s.close();
      }
    });
  }

  test('default transports: polling handshake, then upgrade to websocket', async () => {
    const s = await eioConnect(server.port);
    try {
      assert.equal(s.transport.name, 'polling');
      const first = echo(s, 'before upgrade');
      await upgraded(s);
      assert.equal(await first, 'before upgrade');
      assert.equal(s.transport.name, 'websocket');
      assert.equal(await echo(s, 'after upgrade'), 'after upgrade');
      const bin = crypto.randomBytes(64);
      assert.deepEqual(Buffer.from(await echo(s, bin)), bin);
    } finally {
      s.close();
    }
  });

  test('server-initiated close reaches the client (polling and websocket)', async () => {
    for (const transports of [['polling'], ['websocket']]) {
      const s = await eioConnect(server.port, { transports });
      const reason = closedWith(s);
      s.send('__close');
      assert.match(await reason, /transport close|forced close/);
    }
  });

  test('a burst of messages arrives complete and in order', async () => {
    for (const transports of [['polling'], ['websocket'], ['polling', 'websocket']]) {
      const s = await eioConnect(server.port, { transports });
      try {
        const got = [];
        const done = new Promise((resolve) => {
          s.on('message', (m) => {
            got.push(m);
            if (got.length === 500) resolve();
          });
        });
        s.send('__burst 500');
        await done;
        assert.deepEqual(got, Array.from({ length: 500 }, (_, i) => `burst ${i}`));
      } finally {
        s.close();
      }
    }
  });

  test('two loops: many clients, cross-loop polling and relayed upgrades all work', async () => {
    const before = await getMetrics(server.port);
    const clients = [];
    for (let i = 0; i < 30; ++i) {
      const transports = i % 3 === 0 ? ['polling'] : i % 3 === 1 ? ['websocket'] : ['polling', 'websocket'];
      clients.push(eioConnect(server.port, { transports }));
    }
    const sockets = await Promise.all(clients);
    try {
      await Promise.all(
        sockets.map(async (s, i) => {
          for (let k = 0; k < 5; ++k) assert.equal(await echo(s, `c${i} m${k}`), `c${i} m${k}`);
          const bin = crypto.randomBytes(16 + i);
          assert.deepEqual(Buffer.from(await echo(s, bin)), bin);
        }),
      );
      await Promise.all(sockets.filter((_, i) => i % 3 === 2).map((s) => upgraded(s)));
      // A broadcast is serialized once and reaches every session on both loops.
      const all = Promise.all(sockets.map((s) => nextMessage(s)));
      sockets[0].send('__broadcast hello all');
      assert.deepEqual(await all, sockets.map(() => 'hello all'));
      const m = await getMetrics(server.port);
      const cross = m.get('sb_engineio_cross_loop_requests_total') - (before.get('sb_engineio_cross_loop_requests_total') ?? 0);
      assert.ok(cross > 0, `expected cross-loop polling requests, got ${cross}`);
    } finally {
      for (const s of sockets) s.close();
    }
  });

  test('relayed upgrades (session and WebSocket on different loops) happen and work', async () => {
    // With two loops about half the upgrades land on the other loop; try until one did.
    const start = (await getMetrics(server.port)).get('sb_engineio_relayed_websockets_total') ?? 0;
    for (let i = 0; i < 40; ++i) {
      const s = await eioConnect(server.port);
      await upgraded(s);
      assert.equal(await echo(s, 'relay?'), 'relay?');
      const bin = crypto.randomBytes(100);
      assert.deepEqual(Buffer.from(await echo(s, bin)), bin);
      const relayed = (await getMetrics(server.port)).get('sb_engineio_relayed_websockets_total') - start;
      if (relayed > 0) {
        const reason = closedWith(s);
        s.send('__close');
        await reason;
        return;
      }
      s.close();
    }
    assert.fail('no upgrade was relayed across loops in 40 attempts');
  });
});

describe('handshake and errors', () => {
  test('polling handshake: open packet with exactly the Node keys and headers', async () => {
    const { open, res } = await rawHandshake(server.port);
    assert.deepEqual(Object.keys(open), ['sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload']);
    assert.equal(open.sid.length, 20);
    assert.deepEqual(open.upgrades, ['websocket']);
    assert.equal(open.pingInterval, 25000);
    assert.equal(open.pingTimeout, 20000);
    assert.equal(open.maxPayload, 1000000);
    assert.equal(res.headers['content-type'], 'text/plain; charset=UTF-8');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  test('websocket handshake: open packet first, upgrades []', async () => {
    const ws = await rawWs(server.port, 'EIO=4&transport=websocket');
    const first = await wsNext(ws);
    assert.equal(first[0], '0');
    const open = JSON.parse(first.slice(1));
    assert.deepEqual(Object.keys(open), ['sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload']);
    assert.deepEqual(open.upgrades, []);
    ws.send('4hi');
    assert.equal(await wsNext(ws), '4hi');
    ws.close();
  });

  const cases = [
    ['unknown transport', 'GET', '?EIO=4&transport=foo', 0, 'Transport unknown'],
    ['missing transport', 'GET', '?EIO=4', 0, 'Transport unknown'],
    ['unknown sid', 'GET', '?EIO=4&transport=polling&sid=abcdefghijklmnopqrst', 1, 'Session ID unknown'],
    ['POST without sid', 'POST', '?EIO=4&transport=polling', 2, 'Bad handshake method'],
    ['websocket via plain GET', 'GET', '?EIO=4&transport=websocket', 3, 'Bad request'],
    ['EIO=3', 'GET', '?EIO=3&transport=polling', 5, 'Unsupported protocol version'],
    ['no EIO', 'GET', '?transport=polling', 5, 'Unsupported protocol version'],
  ];
  for (const [name, method, query, code, message] of cases) {
    test(`${name} → 400 code ${code}`, async () => {
      const res = await request(server.port, `/engine.io/${query}`, { method, body: method === 'POST' ? '4x' : undefined });
      assert.equal(res.status, 400);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal(res.body.toString(), JSON.stringify({ code, message }));
    });
  }

  test('a sid of another node is unknown (code 1)', async () => {
    // A Node-style random id: not ours.
    const res = await request(server.port, pollPath('AAAAAAAAAAAAAAAAAAAA'));
    assert.equal(res.status, 400);
    assert.equal(res.body.toString(), '{"code":1,"message":"Session ID unknown"}');
  });

  test('a WebSocket upgrade with an unknown sid gets Node\'s raw 400', async () => {
    await assert.rejects(rawWs(server.port, 'EIO=4&transport=websocket&sid=abcdefghijklmnopqrst'), /400/);
  });

  test('metrics count sessions and errors', async () => {
    const m = await getMetrics(server.port);
    assert.ok(m.has('sb_engineio_sessions_active'));
    assert.ok(sumMetrics(m, /^sb_engineio_sessions_opened_total/) > 0);
    assert.ok(m.get('sb_engineio_errors_total{code="0"}') > 0);
    assert.ok(m.get('sb_engineio_errors_total{code="5"}') > 0);
  });
});

describe('polling rules', () => {
  test('POST answers ok (text/html); the GET carries queued packets joined by \\x1e', async () => {
    const { sid } = await rawHandshake(server.port);
    const post = await request(server.port, pollPath(sid), { method: 'POST', body: `4one${RS}4two${RS}bAQID` });
    assert.equal(post.status, 200);
    assert.equal(post.body.toString(), 'ok');
    assert.equal(post.headers['content-type'], 'text/html');
    const get = await request(server.port, pollPath(sid));
    assert.equal(get.body.toString(), `4one${RS}4two${RS}bAQID`);
    assert.equal(get.headers['cache-control'], 'no-store');
  });

  test('a second concurrent GET → 400, the first gets the close packet, the session is gone', async () => {
    const { sid } = await rawHandshake(server.port);
    const first = request(server.port, pollPath(sid));
    await sleep(100);
    const second = await request(server.port, pollPath(sid));
    assert.equal(second.status, 400);
    const r1 = await first;
    assert.equal(r1.status, 200);
    assert.equal(r1.body.toString(), '1');
    const third = await request(server.port, pollPath(sid));
    assert.equal(third.body.toString(), '{"code":1,"message":"Session ID unknown"}');
  });

  test('POST over maxHttpBufferSize → 413', async () => {
    const { sid } = await rawHandshake(server.port);
    const res = await request(server.port, pollPath(sid), { method: 'POST', body: '4' + 'x'.repeat(1_000_001) });
    assert.equal(res.status, 413);
  });

  test('invalid packet in a POST closes the session (parse error)', async () => {
    const { sid } = await rawHandshake(server.port);
    const res = await request(server.port, pollPath(sid), { method: 'POST', body: 'abc' });
    assert.equal(res.status, 400);
    const get = await request(server.port, pollPath(sid));
    assert.equal(get.status, 400);
  });

  test('a client ping is refused in v4 (session closed)', async () => {
    const { sid } = await rawHandshake(server.port);
    await request(server.port, pollPath(sid), { method: 'POST', body: '2' });
    const get = await request(server.port, pollPath(sid));
    assert.equal(get.status, 400);
  });

  test('client close (POST 1): ok, the pending GET gets a noop, then the sid is unknown', async () => {
    const { sid } = await rawHandshake(server.port);
    const pending = request(server.port, pollPath(sid));
    await sleep(50);
    const post = await request(server.port, pollPath(sid), { method: 'POST', body: '1' });
    assert.equal(post.body.toString(), 'ok');
    assert.equal((await pending).body.toString(), '6');
    assert.equal((await request(server.port, pollPath(sid))).status, 400);
  });

  test('server close while no GET is pending: the next GET gets 6\\x1e1', async () => {
    const { sid } = await rawHandshake(server.port);
    await request(server.port, pollPath(sid), { method: 'POST', body: '4__close' });
    const get = await request(server.port, pollPath(sid));
    assert.equal(get.body.toString(), `6${RS}1`);
    assert.equal((await request(server.port, pollPath(sid))).status, 400);
  });

  test('large GET bodies are compressed when the client accepts it', async () => {
    const { sid } = await rawHandshake(server.port);
    await request(server.port, pollPath(sid), { method: 'POST', body: '4__burst 200' });
    for (const enc of ['gzip', 'deflate']) {
      await request(server.port, pollPath(sid), { method: 'POST', body: '4__burst 200' });
      const get = await request(server.port, pollPath(sid), { headers: { 'accept-encoding': enc } });
      assert.equal(get.headers['content-encoding'], enc);
      const body = (enc === 'gzip' ? zlib.gunzipSync(get.body) : zlib.inflateSync(get.body)).toString();
      assert.ok(body.startsWith('4burst 0'), body.slice(0, 40));
    }
    // Small bodies are not.
    await request(server.port, pollPath(sid), { method: 'POST', body: '4tiny' });
    const small = await request(server.port, pollPath(sid), { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(small.body.toString(), '4tiny');
  });

  test('after the upgrade, polling with the sid is refused (code 3)', async () => {
    const { sid } = await rawHandshake(server.port);
    const ws = await rawWs(server.port, `EIO=4&transport=websocket&sid=${sid}`);
    const pending = request(server.port, pollPath(sid));
    await sleep(20);
    ws.send('2probe');
    assert.equal(await wsNext(ws), '3probe');
    assert.equal((await pending).body.toString(), '6');
    ws.send('5');
    ws.send('4over ws');
    assert.equal(await wsNext(ws), '4over ws');
    const res = await request(server.port, pollPath(sid));
    assert.equal(res.status, 400);
    assert.equal(res.body.toString(), '{"code":3,"message":"Bad request"}');
    ws.close();
  });

  test('packets queued during the upgrade are flushed over the WebSocket', async () => {
    const { sid } = await rawHandshake(server.port);
    const ws = await rawWs(server.port, `EIO=4&transport=websocket&sid=${sid}`);
    ws.send('2probe');
    assert.equal(await wsNext(ws), '3probe');
    await request(server.port, pollPath(sid), { method: 'POST', body: `4queued${RS}bAQID` });
    ws.send('5');
    assert.equal(await wsNext(ws), '4queued');
    assert.deepEqual([...(await wsNext(ws))], [1, 2, 3]);
    ws.close();
  });
});

describe('timeouts', () => {
  let fast;
  before(async () => {
    fast = await startServer(['--threads', '2'], {
      env: { SB_EIO_PING_INTERVAL: '300', SB_EIO_PING_TIMEOUT: '200', SB_EIO_UPGRADE_TIMEOUT: '300' },
    });
  });
  after(async () => {
    await fast?.stop();
  });

  test('polling: no pong within pingInterval + pingTimeout → session gone', async () => {
    const { sid, open } = await rawHandshake(fast.port);
    assert.equal(open.pingInterval, 300);
    await sleep(500);
    const res = await request(fast.port, pollPath(sid));
    assert.equal(res.status, 400);
    assert.equal(res.body.toString(), '{"code":1,"message":"Session ID unknown"}');
  });

  test('polling: a client answering pings stays connected', async () => {
    const { sid } = await rawHandshake(fast.port);
    for (let i = 0; i < 3; ++i) {
      const get = await request(fast.port, pollPath(sid));
      assert.equal(get.body.toString(), '2');
      const post = await request(fast.port, pollPath(sid), { method: 'POST', body: '3' });
      assert.equal(post.body.toString(), 'ok');
    }
  });

  test('websocket: a raw client that stops answering pings is closed', async () => {
    const ws = await rawWs(fast.port, 'EIO=4&transport=websocket');
    await wsNext(ws); // open
    assert.equal(await wsNext(ws), '2');
    ws.send('3');
    assert.equal(await wsNext(ws), '2');
    const t0 = Date.now();
    await wsClosed(ws, { timeoutMs: 2000 });
    assert.ok(Date.now() - t0 < 1000);
  });

  test('engine.io-client keeps a session alive through many heartbeats', async () => {
    const s = await eioConnect(fast.port);
    await sleep(1500);
    assert.equal(s.readyState, 'open');
    assert.equal(await echo(s, 'still here'), 'still here');
    s.close();
  });

  test('upgradeTimeout closes a probe WebSocket that never sends 5; polling continues', async () => {
    const { sid } = await rawHandshake(fast.port);
    const ws = await rawWs(fast.port, `EIO=4&transport=websocket&sid=${sid}`);
    ws.send('2probe');
    assert.equal(await wsNext(ws), '3probe');
    await wsClosed(ws, { timeoutMs: 2000 });
    const post = await request(fast.port, pollPath(sid), { method: 'POST', body: `3${RS}4still polling` });
    assert.equal(post.body.toString(), 'ok');
    const get = await request(fast.port, pollPath(sid));
    assert.ok(get.body.toString().includes('4still polling'), get.body.toString());
  });

  test('metrics: ping timeouts are counted', async () => {
    await waitUntil(async () => {
      const m = await getMetrics(fast.port);
      return m.get('sb_engineio_sessions_closed_total{reason="ping timeout"}') > 0;
    }, { what: 'ping timeout metric' });
  });
});
