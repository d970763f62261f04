// RFC 6455 frame builder and parser for probes. The builder can produce any bit pattern: unmasked
// client frames, RSV bits, reserved opcodes, any length encoding (including an over-long or
// dishonest one), so tests can send exactly the violation they mean.

import crypto from 'node:crypto';
import zlib from 'node:zlib';

export const Op = Object.freeze({
  kContinuation: 0x0,
  kText: 0x1,
  kBinary: 0x2,
  kClose: 0x8,
  kPing: 0x9,
  kPong: 0xa,
});

/**
 * Encodes one frame.
 *   opcode, payload (Buffer|string, utf8), fin (true), rsv1/rsv2/rsv3 (false), mask (true),
 *   maskKey (random 4 bytes), lengthForm ('auto' | 7 | 16 | 64: force a length encoding),
 *   declaredLength (write this length in the header instead of payload.length; top bit allowed
 *   as a BigInt), headerOnly (omit the payload).
 */
export function encodeFrame({
  opcode,
  payload = Buffer.alloc(0),
  fin = true,
  rsv1 = false,
  rsv2 = false,
  rsv3 = false,
  mask = true,
  maskKey = crypto.randomBytes(4),
  lengthForm = 'auto',
  declaredLength,
  headerOnly = false,
}) {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const len = declaredLength ?? BigInt(data.length);
  const bigLen = BigInt(len);
  let form = lengthForm;
  if (form === 'auto') form = bigLen < 126n ? 7 : bigLen < 65536n ? 16 : 64;
  const b0 = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (rsv2 ? 0x20 : 0) | (rsv3 ? 0x10 : 0) | (opcode & 0x0f);
  const maskBit = mask ? 0x80 : 0;
  let header;
  if (form === 7) {
    header = Buffer.from([b0, maskBit | Number(bigLen)]);
  } else if (form === 16) {
    header = Buffer.alloc(4);
    header[0] = b0;
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(bigLen), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(bigLen, 2);
  }
  const parts = [header];
  if (mask) parts.push(maskKey);
  if (!headerOnly) {
    if (mask) {
      const masked = Buffer.alloc(data.length);
      for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ maskKey[i & 3];
      parts.push(masked);
    } else {
      parts.push(data);
    }
  }
  return Buffer.concat(parts);
}

/** Client text/binary/control helpers (masked, FIN). */
export const text = (s, opts = {}) => encodeFrame({ opcode: Op.kText, payload: s, ...opts });
export const binary = (b, opts = {}) => encodeFrame({ opcode: Op.kBinary, payload: b, ...opts });
export const ping = (b = Buffer.alloc(0), opts = {}) => encodeFrame({ opcode: Op.kPing, payload: b, ...opts });

/** Close payload: 2-byte code + UTF-8 reason (code undefined → empty payload). */
export function closePayload(code, reason = '') {
  if (code === undefined) return Buffer.alloc(0);
  const r = Buffer.from(reason, 'utf8');
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}
export const close = (code, reason = '', opts = {}) =>
  encodeFrame({ opcode: Op.kClose, payload: closePayload(code, reason), ...opts });

/**
 * Parses one frame at the start of `buf`. Returns { frame, consumed } or null if incomplete.
 * frame = { fin, rsv1, rsv2, rsv3, opcode, masked, payload (unmasked Buffer), closeCode?, closeReason? }
 */
export function parseFrame(buf) {
  if (buf.length < 2) return null;
  const b0 = buf[0];
  const b1 = buf[1];
  let p = 2;
  let len = b1 & 0x7f;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    p = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    const big = buf.readBigUInt64BE(2);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`server sent a frame with length ${big}`);
    len = Number(big);
    p = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  let key;
  if (masked) {
    if (buf.length < p + 4) return null;
    key = buf.subarray(p, p + 4);
    p += 4;
  }
  if (buf.length < p + len) return null;
  const payload = Buffer.from(buf.subarray(p, p + len));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
  const frame = {
    fin: (b0 & 0x80) !== 0,
    rsv1: (b0 & 0x40) !== 0,
    rsv2: (b0 & 0x20) !== 0,
    rsv3: (b0 & 0x10) !== 0,
    opcode: b0 & 0x0f,
    masked,
    payload,
  };
  if (frame.opcode === Op.kClose) {
    frame.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : undefined;
    frame.closeReason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
  }
  return { frame, consumed: p + len };
}

/** permessage-deflate (RFC 7692) body of one message: raw DEFLATE, sync-flushed, tail removed. */
export function deflateMessage(data) {
  const out = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const tail = Buffer.from([0x00, 0x00, 0xff, 0xff]);
  return out.subarray(out.length - 4).equals(tail) ? out.subarray(0, out.length - 4) : out;
}

/** Inverse of deflateMessage for one message without context takeover. */
export function inflateMessage(data) {
  return zlib.inflateRawSync(Buffer.concat([data, Buffer.from([0x00, 0x00, 0xff, 0xff])]), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
}

/**
 * Reads frames until a close frame arrives (skipping data/ping/pong frames), replies with a close
 * frame so a server that waits for the handshake can finish, then waits for the TCP close.
 * Resolves with { code, reason, tcpClosed, skipped } — code is undefined for an empty close
 * payload, and null when the connection closed without any close frame.
 */
export async function readClose(conn, { timeoutMs = 10_000, reply = true } = {}) {
  const skipped = [];
  for (;;) {
    const f = await conn.readFrame({ timeoutMs });
    if (f === null) return { code: null, reason: '', tcpClosed: true, skipped };
    if (f.opcode !== Op.kClose) {
      skipped.push(f);
      continue;
    }
    if (reply) {
      // Reply with a bare close (no code) — always a valid answer, whatever code the server sent.
      await conn.write(close(undefined));
    }
    const tcpClosed = await conn.waitClosed(timeoutMs);
    return { code: f.closeCode, reason: f.closeReason, tcpClosed, skipped };
  }
}
