// WebSocket data path with a real client (npm ws) and raw frames: echo, fragmentation, ping/pong,
// close handshake, chat fan-out across the node's threads, permessage-deflate.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertHealthy, startServer } from './lib/server.mjs';
import { wsOpen } from './lib/raw.mjs';
import { Op, close, deflateMessage, encodeFrame, inflateMessage, ping, readClose, text } from './lib/frames.mjs';
import { closed, connect, nextMessage, send } from './lib/ws-client.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe('/raw/echo', () => {
  test('text and binary messages come back unchanged with the same type', async () => {
    const ws = await connect(server.port);
    try {
      const cases = [
        ['hello', false],
        ['', false],
        ['unicode: héllo wörld — 日本語 🎉', false],
        [crypto.randomBytes(1), true],
        [crypto.randomBytes(125), true],
        [crypto.randomBytes(126), true],
        [crypto.randomBytes(65535), true],
        [crypto.randomBytes(65536), true],
        [crypto.randomBytes(300_000), true],
        [Buffer.alloc(0), true],
      ];
      for (const [payload, isBinary] of cases) {
        const reply = nextMessage(ws);
        await send(ws, payload, { binary: isBinary });
        const m = await reply;
        assert.equal(m.isBinary, isBinary, `type of ${isBinary ? 'binary' : 'text'} echo`);
        assert.ok(m.data.equals(Buffer.from(payload)), `payload of length ${payload.length} differs`);
      }
    } finally {
      ws.terminate();
    }
  });

  test('a message of exactly --max-message-size (1 MiB default) is echoed', async () => {
    const ws = await connect(server.port);
    try {
      const payload = crypto.randomBytes(1048576);
      const reply = nextMessage(ws, 20_000);
      await send(ws, payload, { binary: true });
      assert.ok((await reply).data.equals(payload));
    } finally {
      ws.terminate();
    }
  });

  test('a message over 1 MiB → close 1009, server stays up', async () => {
    const ws = await connect(server.port);
    const c = closed(ws, 20_000);
    ws.send(crypto.randomBytes(1048577));
    assert.equal((await c).code, 1009);
    await assertHealthy(server.port);
  });

  test('many messages in flight come back in order', async () => {
    const ws = await connect(server.port);
    try {
      const got = [];
      const done = new Promise((resolve) => {
        ws.on('message', (d) => {
          got.push(d.toString());
          if (got.length === 1000) resolve();
        });
      });
      for (let i = 0; i < 1000; i++) ws.send(`m${i}`);
      await done;
      assert.deepEqual(got, Array.from({ length: 1000 }, (_, i) => `m${i}`));
    } finally {
      ws.terminate();
    }
  });

  test('a fragmented message with a ping in the middle: pong first, then the whole message', async () => {
    const { conn } = await wsOpen(server.port);
    try {
      await conn.write(Buffer.concat([
        encodeFrame({ opcode: Op.kText, payload: 'frag-', fin: false }),
        encodeFrame({ opcode: Op.kContinuation, payload: 'men', fin: false }),
        ping(Buffer.from('in-between')),
        encodeFrame({ opcode: Op.kContinuation, payload: 'ted €', fin: true }),
      ]));
      const pong = await conn.readFrame();
      assert.equal(pong.opcode, Op.kPong);
      assert.equal(pong.payload.toString(), 'in-between');
      const msg = await conn.readFrame();
      assert.equal(msg.opcode, Op.kText);
      assert.equal(msg.payload.toString(), 'frag-mented €');
      assert.equal(msg.masked, false, 'server frames must not be masked');
    } finally {
      conn.destroy();
    }
  });

  test('a UTF-8 character split across fragments is valid', async () => {
    const { conn } = await wsOpen(server.port);
    try {
      const euro = Buffer.from('€', 'utf8'); // e2 82 ac
      await conn.write(Buffer.concat([
        encodeFrame({ opcode: Op.kText, payload: Buffer.concat([Buffer.from('a'), euro.subarray(0, 2)]), fin: false }),
        encodeFrame({ opcode: Op.kContinuation, payload: euro.subarray(2), fin: true }),
      ]));
      const msg = await conn.readFrame();
      assert.equal(msg.payload.toString(), 'a€');
    } finally {
      conn.destroy();
    }
  });

  test('a frame delivered one byte at a time is reassembled', async () => {
    const { conn } = await wsOpen(server.port);
    try {
      const frame = encodeFrame({ opcode: Op.kBinary, payload: Buffer.from('0123456789abcdef'.repeat(20)) });
      for (let i = 0; i < frame.length; i++) await conn.write(frame.subarray(i, i + 1));
      const msg = await conn.readFrame();
      assert.equal(msg.opcode, Op.kBinary);
      assert.equal(msg.payload.toString(), '0123456789abcdef'.repeat(20));
    } finally {
      conn.destroy();
    }
  });

  test('ping → pong with the same payload (raw and with ws)', async () => {
    const { conn } = await wsOpen(server.port);
    try {
      for (const p of [Buffer.alloc(0), Buffer.from('abc'), crypto.randomBytes(125)]) {
        await conn.write(ping(p));
        const f = await conn.readFrame();
        assert.equal(f.opcode, Op.kPong);
        assert.ok(f.payload.equals(p));
      }
    } finally {
      conn.destroy();
    }
    const ws = await connect(server.port);
    try {
      const pong = new Promise((resolve) => ws.once('pong', resolve));
      ws.ping(Buffer.from('ws-ping'));
      assert.equal((await pong).toString(), 'ws-ping');
    } finally {
      ws.terminate();
    }
  });

  test('an unsolicited pong is ignored', async () => {
    const { conn } = await wsOpen(server.port);
    try {
      await conn.write(encodeFrame({ opcode: Op.kPong, payload: 'unsolicited' }));
      await conn.write(text('after-pong'));
      const f = await conn.readFrame();
      assert.equal(f.opcode, Op.kText);
      assert.equal(f.payload.toString(), 'after-pong');
    } finally {
      conn.destroy();
    }
  });
});

describe('close handshake', () => {
  test('client close 1000 → server echoes close 1000 and closes TCP', async () => {
    const { conn } = await wsOpen(server.port);
    try {
      await conn.write(close(1000, 'bye'));
      const c = await readClose(conn, { reply: false });
      assert.equal(c.code, 1000);
      assert.ok(c.tcpClosed, 'TCP connection not closed after the close handshake');
    } finally {
      conn.destroy();
    }
  });

  test('close without a code → server answers close (1000 or no code)', async () => {
    const { conn } = await wsOpen(server.port);
    try {
      await conn.write(close(undefined));
      const c = await readClose(conn, { reply: false });
      assert.ok(c.code === undefined || c.code === 1000, `code ${c.code}`);
      assert.ok(c.tcpClosed);
    } finally {
      conn.destroy();
    }
  });

  test('application close code 3000/4999 is accepted (not a protocol error)', async () => {
    for (const code of [3000, 4999, 1001, 1011]) {
      const { conn } = await wsOpen(server.port);
      try {
        await conn.write(close(code));
        const c = await readClose(conn, { reply: false });
        assert.ok(c.code === code || c.code === 1000, `sent ${code}, got ${c.code}`);
      } finally {
        conn.destroy();
      }
    }
  });

  test('ws client close(1000) completes cleanly', async () => {
    const ws = await connect(server.port);
    const c = closed(ws);
    ws.close(1000, 'done');
    assert.equal((await c).code, 1000);
  });
});

describe('/raw/chat', () => {
  test('a message reaches every chat client (sender included), text and binary', async () => {
    // Enough clients that both loop threads hold some (the kernel spreads SO_REUSEPORT accepts).
    const clients = [];
    try {
      for (let i = 0; i < 12; i++) clients.push(await connect(server.port, '/raw/chat'));
      const echoOnly = await connect(server.port, '/raw/echo');
      clients.push(echoOnly);
      const chat = clients.slice(0, 12);
      let leaked = false;
      echoOnly.on('message', () => (leaked = true));

      const waits = chat.map((ws) => nextMessage(ws));
      await send(chat[3], 'hello room');
      for (const m of await Promise.all(waits)) {
        assert.equal(m.isBinary, false);
        assert.equal(m.data.toString(), 'hello room');
      }
      const bin = crypto.randomBytes(1000);
      const waits2 = chat.map((ws) => nextMessage(ws));
      await send(chat[7], bin, { binary: true });
      for (const m of await Promise.all(waits2)) {
        assert.equal(m.isBinary, true);
        assert.ok(m.data.equals(bin));
      }
      assert.equal(leaked, false, 'a /raw/echo client received a chat message');
    } finally {
      for (const ws of clients) ws.terminate();
    }
  });

  test('a client that left no longer receives, the others still do', async () => {
    const a = await connect(server.port, '/raw/chat');
    const b = await connect(server.port, '/raw/chat');
    const c = await connect(server.port, '/raw/chat');
    try {
      const gone = closed(b);
      b.close(1000);
      await gone;
      const wa = nextMessage(a);
      const wc = nextMessage(c);
      await send(a, 'after-leave');
      assert.equal((await wa).data.toString(), 'after-leave');
      assert.equal((await wc).data.toString(), 'after-leave');
    } finally {
      a.terminate();
      c.terminate();
    }
  });
});

describe('permessage-deflate', () => {
  test('negotiated with the ws client; compressed echo works both ways', async () => {
    const ws = await connect(server.port, '/raw/echo', { perMessageDeflate: { threshold: 0 } });
    try {
      assert.match(ws.extensions, /permessage-deflate/);
      const msgs = [
        'a'.repeat(10_000),
        'hello deflate',
        JSON.stringify({ list: Array.from({ length: 500 }, (_, i) => ({ i, name: `item-${i}` })) }),
        '',
      ];
      for (const m of msgs) {
        const reply = nextMessage(ws);
        await send(ws, m);
        assert.equal((await reply).data.toString(), m);
      }
      const bin = Buffer.concat([crypto.randomBytes(5000), Buffer.alloc(50_000, 7)]);
      const reply = nextMessage(ws);
      await send(ws, bin, { binary: true });
      assert.ok((await reply).data.equals(bin));
    } finally {
      ws.terminate();
    }
  });

  test('raw: the server inflates a compressed frame and compresses its large echo (RSV1)', async () => {
    const { conn, response } = await wsOpen(server.port, '/raw/echo', {
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_no_context_takeover; server_no_context_takeover' },
    });
    try {
      assert.match(response.headers['sec-websocket-extensions'] ?? '', /permessage-deflate/);
      const data = Buffer.from('compress me please '.repeat(2000));
      for (let i = 0; i < 3; i++) {
        await conn.write(encodeFrame({ opcode: Op.kText, payload: deflateMessage(data), rsv1: true }));
        const f = await conn.readFrame();
        assert.equal(f.opcode, Op.kText);
        assert.equal(f.rsv1, true, 'a 38 KB repetitive echo was not compressed');
        assert.ok(f.payload.length < data.length / 4, `compressed size ${f.payload.length}`);
        assert.ok(inflateMessage(f.payload).equals(data));
      }
      // An uncompressed message on the same connection is still fine.
      await conn.write(text('plain'));
      const f = await conn.readFrame();
      const body = f.rsv1 ? inflateMessage(f.payload) : f.payload;
      assert.equal(body.toString(), 'plain');
    } finally {
      conn.destroy();
    }
  });
});

describe('with --no-deflate', () => {
  let plain;
  before(async () => {
    plain = await startServer(['--no-deflate']);
  });
  after(async () => {
    await plain?.stop();
  });

  test('no extension is negotiated and echo still works', async () => {
    const ws = await connect(plain.port, '/raw/echo', { perMessageDeflate: { threshold: 0 } });
    try {
      assert.equal(ws.extensions, '');
      const reply = nextMessage(ws);
      await send(ws, 'x'.repeat(5000));
      assert.equal((await reply).data.toString(), 'x'.repeat(5000));
    } finally {
      ws.terminate();
    }
    const { conn, response } = await wsOpen(plain.port, '/raw/echo', {
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' },
    });
    conn.destroy();
    assert.equal(response.headers['sec-websocket-extensions'], undefined);
  });

  test('RSV1 without negotiated deflate → close 1002', async () => {
    const { conn } = await wsOpen(plain.port, '/raw/echo');
    try {
      await conn.write(encodeFrame({ opcode: Op.kText, payload: deflateMessage(Buffer.from('hi')), rsv1: true }));
      assert.equal((await readClose(conn)).code, 1002);
    } finally {
      conn.destroy();
    }
  });
});
