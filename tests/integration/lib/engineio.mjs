// Helpers for the Engine.IO integration tests: the official engine.io-client, and raw polling
// requests for the exact-bytes checks.

import http from 'node:http';
import { Socket } from 'engine.io-client';
import WebSocket from 'ws';

export const RS = '\x1e';

/** Opens an engine.io-client socket; resolves once 'open' fired. */
export function eioConnect(port, opts = {}, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const s = new Socket(`http://127.0.0.1:${port}`, { ...opts });
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`engine.io connect (${JSON.stringify(opts.transports ?? 'default')}) timed out`));
    }, timeoutMs);
    s.once('open', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e instanceof Error ? e : new Error(String(e)));
    });
  });
}

/** Resolves with the next message of `s` (string or Buffer). */
export function nextMessage(s, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message within timeout')), timeoutMs);
    s.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
  });
}

/** Sends `data` and resolves with the echo. */
export async function echo(s, data) {
  const reply = nextMessage(s);
  s.send(data);
  return reply;
}

/** Resolves with the close reason of `s`. */
export function closedWith(s, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
    s.once('close', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/** Waits for the socket to have upgraded to websocket (or to be on it already). */
export function upgraded(s, { timeoutMs = 5000 } = {}) {
  if (s.transport.name === 'websocket') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no upgrade within timeout')), timeoutMs);
    s.once('upgrade', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A keep-alive agent per raw session, so GETs and POSTs use separate sockets like browsers. */
export function request(port, path, { method = 'GET', body, headers = {}, agent = false, timeoutMs = 5000 } = {}) {
  if (body !== undefined) headers = { 'content-length': Buffer.byteLength(body), ...headers };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Raw polling handshake: resolves with { sid, open, res }. */
export async function rawHandshake(port, prefix = '/engine.io/') {
  const res = await request(port, `${prefix}?EIO=4&transport=polling`);
  if (res.status !== 200) throw new Error(`handshake answered ${res.status} ${res.body}`);
  const text = res.body.toString();
  if (text[0] !== '0') throw new Error(`not an open packet: ${text}`);
  const open = JSON.parse(text.slice(1));
  return { sid: open.sid, open, res };
}

export const pollPath = (sid, prefix = '/engine.io/') => `${prefix}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;

/** Opens a raw WebSocket (npm ws) to the Engine.IO path; resolves once open. */
export function rawWs(port, query, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/engine.io/?${query}`);
    const timer = setTimeout(() => reject(new Error('ws open timed out')), timeoutMs);
    ws.messages = [];
    ws.waiters = [];
    ws.on('message', (data, isBinary) => {
      const m = isBinary ? data : data.toString();
      const w = ws.waiters.shift();
      if (w) w(m);
      else ws.messages.push(m);
    });
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Next message of a rawWs socket. */
export function wsNext(ws, { timeoutMs = 5000 } = {}) {
  if (ws.messages.length) return Promise.resolve(ws.messages.shift());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ws message within timeout')), timeoutMs);
    ws.waiters.push((m) => {
      clearTimeout(timer);
      resolve(m);
    });
  });
}

/** Resolves with the close code of a rawWs socket. */
export function wsClosed(ws, { timeoutMs = 5000 } = {}) {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ws did not close')), timeoutMs);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
