// Small promise helpers around the npm `ws` client.

import WebSocket from 'ws';

export { WebSocket };

/** Opens ws://127.0.0.1:port+path; resolves with the open socket, rejects on error/unexpected response. */
export function connect(port, path = '/raw/echo', options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false, ...options });
    const fail = (e) => {
      ws.removeAllListeners('open');
      reject(e);
    };
    ws.once('open', () => {
      ws.off('error', fail);
      ws.on('error', () => {}); // later errors surface through 'close'
      resolve(ws);
    });
    ws.once('error', fail);
    ws.once('unexpected-response', (req, res) => {
      ws.removeAllListeners('open');
      req.destroy();
      reject(Object.assign(new Error(`unexpected response ${res.statusCode}`), { status: res.statusCode }));
    });
  });
}

// The promises below are often created before the action that triggers them; if the test fails in
// between, nobody awaits them, so they are marked handled to keep a failure from turning into an
// unhandled rejection reported against a later test. Awaiting them still throws.
function handled(p) {
  p.catch(() => {});
  return p;
}

/** Resolves with the next message as { data, isBinary }; rejects if the socket closes first. */
export function nextMessage(ws, timeoutMs = 10_000) {
  return handled(new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      ws.off('message', onMsg);
      ws.off('close', onClose);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMsg = (data, isBinary) => {
      done();
      resolve({ data: Buffer.isBuffer(data) ? data : Buffer.concat(data), isBinary });
    };
    const onClose = (code) => {
      done();
      reject(new Error(`connection closed (code ${code}) before a message arrived`));
    };
    ws.once('message', onMsg);
    ws.once('close', onClose);
  }));
}

/** Resolves with { code, reason } when the socket closes (immediately if already closed). */
export function closed(ws, timeoutMs = 10_000) {
  return handled(new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve({ code: ws._closeCode, reason: '' });
    const timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  }));
}

/** Sends and waits for the send callback. */
export function send(ws, data, opts = {}) {
  return new Promise((resolve, reject) => ws.send(data, opts, (e) => (e ? reject(e) : resolve())));
}
