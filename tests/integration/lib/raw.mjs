// Raw TCP probes: a buffered connection with awaitable reads, an HTTP/1.1 response parser that
// handles pipelined responses, and helpers to perform a WebSocket handshake by hand.

import crypto from 'node:crypto';
import net from 'node:net';
import { parseFrame } from './frames.mjs';

export class RawConn {
  /** Connects to 127.0.0.1:port (or `host`), optionally from `localAddress`. */
  static open(port, { host = '127.0.0.1', localAddress, timeoutMs = 10_000 } = {}) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port, localAddress });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.off('error', reject);
        resolve(new RawConn(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.ended = false; // peer sent FIN
    this.closed = false; // socket fully closed (FIN/RST/destroy)
    this.error = null;
    this.waiters = new Set();
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.#notify();
    });
    sock.on('end', () => {
      this.ended = true;
      this.#notify();
    });
    sock.on('error', (e) => {
      this.error = e;
      this.#notify();
    });
    sock.on('close', () => {
      this.closed = true;
      this.#notify();
    });
  }

  #notify() {
    for (const w of [...this.waiters]) w();
  }

  /** Writes bytes (string as latin1, so any byte value can be written) and waits for the flush. */
  write(data) {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    return new Promise((resolve) => {
      if (this.closed || this.sock.destroyed) return resolve(false);
      this.sock.write(b, (err) => resolve(!err));
    });
  }

  /**
   * Waits until `check()` returns something other than undefined, re-checking on every event.
   * Rejects after `timeoutMs` with `what` in the message.
   */
  waitFor(check, { timeoutMs = 10_000, what = 'data' } = {}) {
    return new Promise((resolve, reject) => {
      const tryIt = () => {
        let v;
        try {
          v = check();
        } catch (e) {
          done();
          reject(e);
          return;
        }
        if (v !== undefined) {
          done();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ` +
          `received so far (${this.buf.length} bytes): ${JSON.stringify(this.buf.subarray(0, 300).toString('latin1'))}` +
          `; closed=${this.closed}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(tryIt);
      };
      this.waiters.add(tryIt);
      tryIt();
    });
  }

  /**
   * Reads one HTTP response. `method` tells whether a body is expected (HEAD has none). Resolves
   * with { status, reason, version, headers (lower-case names → value, repeated joined by ', '),
   * rawHeaders ([name, value] pairs), body (Buffer) }.
   * If the connection closes before a full response arrives, resolves with null.
   */
  readResponse({ method = 'GET', timeoutMs = 10_000 } = {}) {
    return this.waitFor(() => {
      const r = parseResponse(this.buf, { method, eof: this.ended || this.closed });
      if (r) {
        this.buf = this.buf.subarray(r.consumed);
        return r.response;
      }
      if (this.ended || this.closed) return null;
      return undefined;
    }, { timeoutMs, what: 'an HTTP response' });
  }

  /** Resolves true once the peer has closed (FIN or RST) within timeoutMs, false otherwise. */
  async waitClosed(timeoutMs = 10_000) {
    try {
      await this.waitFor(() => (this.ended || this.closed ? true : undefined), { timeoutMs, what: 'close' });
      return true;
    } catch {
      return false;
    }
  }

  /** Reads one WebSocket frame (as sent by the server); null if the connection closed first. */
  readFrame({ timeoutMs = 10_000 } = {}) {
    return this.waitFor(() => {
      const r = parseFrame(this.buf);
      if (r) {
        this.buf = this.buf.subarray(r.consumed);
        return r.frame;
      }
      if (this.ended || this.closed) return null;
      return undefined;
    }, { timeoutMs, what: 'a WebSocket frame' });
  }

  destroy() {
    this.sock.destroy();
  }
}

const kNoBodyStatus = (s) => (s >= 100 && s < 200) || s === 204 || s === 304;

/**
 * Parses one HTTP/1.x response at the start of `buf`. Returns { response, consumed } or null when
 * more bytes are needed. A response without Content-Length/chunked framing is delimited by EOF.
 * Throws on bytes that are not an HTTP response.
 */
export function parseResponse(buf, { method = 'GET', eof = false } = {}) {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (buf.length && !/^H(T(T(P(\/)?)?)?)?/.test(buf.subarray(0, 5).toString('latin1'))) {
      throw new Error(`not an HTTP response: ${JSON.stringify(buf.subarray(0, 200).toString('latin1'))}`);
    }
    return null;
  }
  const head = buf.subarray(0, headEnd).toString('latin1');
  const lines = head.split('\r\n');
  const m = lines[0].match(/^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/);
  if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
  const headers = {};
  const rawHeaders = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) throw new Error(`bad header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    rawHeaders.push([name, value]);
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const status = Number(m[2]);
  const bodyStart = headEnd + 4;
  let body;
  let consumed;
  if (method === 'HEAD' || kNoBodyStatus(status)) {
    body = Buffer.alloc(0);
    consumed = bodyStart;
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts = [];
    let p = bodyStart;
    for (;;) {
      const le = buf.indexOf('\r\n', p);
      if (le < 0) return null;
      const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      if (size === 0) {
        const end = buf.indexOf('\r\n\r\n', le);
        if (end < 0 && buf.length < le + 4) return null;
        consumed = end < 0 ? le + 4 : end + 4;
        break;
      }
      if (buf.length < le + 2 + size + 2) return null;
      parts.push(buf.subarray(le + 2, le + 2 + size));
      p = le + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    const len = Number(headers['content-length']);
    if (!Number.isInteger(len) || len < 0) throw new Error(`bad content-length ${headers['content-length']}`);
    if (buf.length < bodyStart + len) return null;
    body = buf.subarray(bodyStart, bodyStart + len);
    consumed = bodyStart + len;
  } else {
    if (!eof) return null;
    body = buf.subarray(bodyStart);
    consumed = buf.length;
  }
  return {
    response: { version: m[1], status, reason: m[3] ?? '', headers, rawHeaders, body: Buffer.from(body) },
    consumed,
  };
}

/**
 * Sends `request` on a fresh connection and reads one response. Resolves with
 * { response (or null if closed first), conn }. The caller destroys conn.
 */
export async function exchange(port, request, { method, timeoutMs = 10_000, localAddress } = {}) {
  const conn = await RawConn.open(port, { localAddress });
  await conn.write(request);
  const m = method ?? (typeof request === 'string' ? request.split(' ', 1)[0] : 'GET');
  const response = await conn.readResponse({ method: m, timeoutMs });
  return { response, conn };
}

export function wsKey() {
  return crypto.randomBytes(16).toString('base64');
}

export function wsAccept(key) {
  return crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

/**
 * Builds a WebSocket upgrade request. `headers` entries override the defaults; a value of null
 * removes that header.
 */
export function upgradeRequest(path = '/raw/echo', headers = {}) {
  const h = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': wsKey(),
    'Sec-WebSocket-Version': '13',
  };
  for (const [k, v] of Object.entries(headers)) {
    const existing = Object.keys(h).find((x) => x.toLowerCase() === k.toLowerCase());
    if (existing) delete h[existing];
    if (v !== null) h[k] = v;
  }
  let s = `GET ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(h)) s += `${k}: ${v}\r\n`;
  return { text: s + '\r\n', key: h['Sec-WebSocket-Key'] };
}

/**
 * Opens a raw WebSocket: performs the handshake, asserts 101 and a correct Sec-WebSocket-Accept,
 * and returns { conn, response }. Frames are then written with frames.mjs and read with
 * conn.readFrame().
 */
export async function wsOpen(port, path = '/raw/echo', { headers = {}, localAddress } = {}) {
  const conn = await RawConn.open(port, { localAddress });
  const req = upgradeRequest(path, headers);
  await conn.write(req.text);
  const response = await conn.readResponse();
  if (!response || response.status !== 101) {
    conn.destroy();
    throw new Error(`WebSocket handshake on ${path} answered ${response ? response.status : 'nothing (closed)'}`);
  }
  const accept = response.headers['sec-websocket-accept'];
  if (accept !== wsAccept(req.key)) {
    conn.destroy();
    throw new Error(`bad Sec-WebSocket-Accept ${accept} for key ${req.key}`);
  }
  return { conn, response };
}
