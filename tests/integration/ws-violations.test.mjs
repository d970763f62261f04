// RFC 6455 violations by the client: each must fail the connection with the specified close code,
// and the server must keep serving everyone else.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertHealthy, startServer } from './lib/server.mjs';
import { wsOpen } from './lib/raw.mjs';
import { Op, close, closePayload, deflateMessage, encodeFrame, ping, readClose, text } from './lib/frames.mjs';
import { connect, nextMessage, send } from './lib/ws-client.mjs';

let server;
let bystander; // a well-behaved client that must be unaffected by everyone else's violations
before(async () => {
  server = await startServer(['--max-message-size', '65536']);
  bystander = await connect(server.port, '/raw/echo');
});
after(async () => {
  bystander?.terminate();
  await server?.stop();
});

/** Opens a raw connection, sends `bytes` (or the frames), expects a close frame with `code`. */
async function expectClose(bytes, code, { headers } = {}) {
  const { conn } = await wsOpen(server.port, '/raw/echo', { headers });
  try {
    await conn.write(Array.isArray(bytes) ? Buffer.concat(bytes) : bytes);
    const c = await readClose(conn);
    assert.equal(c.code, code, `expected close ${code}, got ${c.code === null ? 'no close frame' : c.code}` +
      (c.skipped.length ? ` after ${c.skipped.length} other frame(s)` : ''));
    assert.ok(c.tcpClosed, 'server did not close the TCP connection');
    for (const f of c.skipped) {
      assert.ok(f.opcode !== Op.kText && f.opcode !== Op.kBinary,
        'the violating message (or part of it) was echoed before the close');
    }
  } finally {
    conn.destroy();
  }
  await assertHealthy(server.port);
}

const payload = (n) => crypto.randomBytes(n);

describe('protocol errors → 1002', () => {
  const cases = [
    ['unmasked client frame', () => text('hello', { mask: false })],
    ['RSV1 set (no extension negotiated)', () => text('hello', { rsv1: true })],
    ['RSV2 set', () => text('hello', { rsv2: true })],
    ['RSV3 set', () => text('hello', { rsv3: true })],
    ['reserved data opcode 0x3', () => encodeFrame({ opcode: 0x3, payload: 'x' })],
    ['reserved data opcode 0x7', () => encodeFrame({ opcode: 0x7, payload: 'x' })],
    ['reserved control opcode 0xB', () => encodeFrame({ opcode: 0xb, payload: 'x' })],
    ['reserved control opcode 0xF', () => encodeFrame({ opcode: 0xf })],
    ['continuation without a started message', () => encodeFrame({ opcode: Op.kContinuation, payload: 'x' })],
    ['new text frame while a fragmented message is open', () => [
      encodeFrame({ opcode: Op.kText, payload: 'a', fin: false }),
      encodeFrame({ opcode: Op.kText, payload: 'b', fin: true }),
    ]],
    ['fragmented ping', () => encodeFrame({ opcode: Op.kPing, payload: 'x', fin: false })],
    ['fragmented close', () => encodeFrame({ opcode: Op.kClose, payload: closePayload(1000), fin: false })],
    ['ping payload of 126 bytes', () => ping(payload(126))],
    ['close payload of 126 bytes', () => encodeFrame({ opcode: Op.kClose, payload: Buffer.concat([closePayload(1000), Buffer.alloc(124, 0x61)]) })],
    ['64-bit length with the top bit set', () => encodeFrame({
      opcode: Op.kBinary, declaredLength: 0x8000000000000000n, lengthForm: 64, headerOnly: true })],
    ['close with a 1-byte payload', () => encodeFrame({ opcode: Op.kClose, payload: Buffer.from([0x03]) })],
    ['close code 1005 on the wire', () => close(1005)],
    ['close code 1006 on the wire', () => close(1006)],
    ['close code 1015 on the wire', () => close(1015)],
    ['close code 999', () => close(999)],
    ['close code 0', () => close(0)],
    ['close code 1004 (reserved)', () => close(1004)],
    ['close code 2000 (reserved range)', () => close(2000)],
    ['close code 5000', () => close(5000)],
  ];
  for (const [name, make] of cases) {
    test(name, async () => {
      await expectClose(make(), 1002);
    });
  }
});

describe('invalid UTF-8 → 1007', () => {
  const bad = Buffer.from([0xc3, 0x28]);
  const cases = [
    ['invalid sequence in a single text frame', () => text(Buffer.concat([Buffer.from('ok '), bad]))],
    ['overlong encoding of "/"', () => text(Buffer.from([0xc0, 0xaf]))],
    ['UTF-16 surrogate encoded in UTF-8', () => text(Buffer.from([0xed, 0xa0, 0x80]))],
    ['code point above U+10FFFF', () => text(Buffer.from([0xf4, 0x90, 0x80, 0x80]))],
    ['invalid sequence split across fragments', () => [
      encodeFrame({ opcode: Op.kText, payload: Buffer.from([0x61, 0xe2, 0x82]), fin: false }),
      encodeFrame({ opcode: Op.kContinuation, payload: Buffer.from([0x28]), fin: true }),
    ]],
    ['message ending in the middle of a character', () => [
      encodeFrame({ opcode: Op.kText, payload: Buffer.from('abc'), fin: false }),
      encodeFrame({ opcode: Op.kContinuation, payload: Buffer.from([0xe2, 0x82]), fin: true }),
    ]],
  ];
  for (const [name, make] of cases) {
    test(name, async () => {
      await expectClose(make(), 1007);
    });
  }
});

describe('too big → 1009 (--max-message-size 65536)', () => {
  test('a single frame of 65537 bytes', async () => {
    await expectClose(encodeFrame({ opcode: Op.kBinary, payload: payload(65537) }), 1009);
  });

  test('a header declaring 100 MB is refused without waiting for the payload', async () => {
    await expectClose(encodeFrame({ opcode: Op.kBinary, declaredLength: 100_000_000n, headerOnly: true }), 1009);
  });

  test('fragments that add up to more than the limit', async () => {
    await expectClose([
      encodeFrame({ opcode: Op.kBinary, payload: payload(40000), fin: false }),
      encodeFrame({ opcode: Op.kContinuation, payload: payload(40000), fin: true }),
    ], 1009);
  });

  test('a 65536-byte message is still fine', async () => {
    const { conn } = await wsOpen(server.port, '/raw/echo');
    try {
      const p = payload(65536);
      await conn.write(encodeFrame({ opcode: Op.kBinary, payload: p }));
      const f = await conn.readFrame();
      assert.ok(f.payload.equals(p));
    } finally {
      conn.destroy();
    }
  });

  test('permessage-deflate bomb: 40 KB compressed that inflates past the limit', async () => {
    const bomb = deflateMessage(Buffer.alloc(40 * 1024 * 1024, 0));
    assert.ok(bomb.length < 65536, `bomb is ${bomb.length} bytes compressed`);
    const { conn, response } = await wsOpen(server.port, '/raw/echo', {
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' },
    });
    try {
      assert.match(response.headers['sec-websocket-extensions'] ?? '', /permessage-deflate/,
        'deflate not negotiated, cannot test the bomb');
      await conn.write(encodeFrame({ opcode: Op.kBinary, payload: bomb, rsv1: true }));
      const c = await readClose(conn);
      assert.equal(c.code, 1009);
    } finally {
      conn.destroy();
    }
    await assertHealthy(server.port);
  });

  test('invalid DEFLATE data in a compressed frame → 1002 or 1007', async () => {
    const { conn, response } = await wsOpen(server.port, '/raw/echo', {
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' },
    });
    try {
      assert.match(response.headers['sec-websocket-extensions'] ?? '', /permessage-deflate/);
      await conn.write(encodeFrame({ opcode: Op.kBinary, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), rsv1: true }));
      const c = await readClose(conn);
      assert.ok([1002, 1007].includes(c.code), `close code ${c.code}`);
    } finally {
      conn.destroy();
    }
  });
});

describe('after all violations', () => {
  test('the bystander client still gets its echoes', async () => {
    const reply = nextMessage(bystander);
    await send(bystander, 'still here');
    assert.equal((await reply).data.toString(), 'still here');
    await assertHealthy(server.port);
  });
});
