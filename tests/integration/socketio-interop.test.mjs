// Socket.IO interop with a second, independent client implementation: python-socketio's sync
// `socketio.Client` (Debian's python3-socketio, run by tests/integration/python/sio_client.py with
// /usr/bin/python3) against `switchboard serve --threads 2`, side by side with the official Node
// socket.io-client. Covers connect over each transport, acks with unicode and nested JSON, binary
// attachments (bytes), room broadcasts Node → Python and Python → Node, and a clean disconnect
// that the server sees (the room empties).
//
// Needs python3-socketio, python3-requests and python3-websocket (the sync client's transports);
// without them the tests are skipped with that reason.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { repoRoot, startServer } from './lib/server.mjs';

const kPython = '/usr/bin/python3';
const kScript = path.join(repoRoot, 'tests/integration/python/sio_client.py');

function pythonMissing() {
  const r = spawnSync(kPython, ['-c', 'import socketio, engineio, requests, websocket'], { encoding: 'utf8' });
  if (r.error) return `${kPython} not runnable: ${r.error.message}`;
  if (r.status !== 0) {
    return `${kPython} lacks python-socketio's client deps (apt: python3-socketio python3-requests ` +
      `python3-websocket): ${r.stderr.trim().split('\n').pop()}`;
  }
  return false;
}
const skip = pythonMissing();

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One python-socketio client process: JSON commands on stdin, JSON result lines on stdout. */
class PyClient {
  constructor(config) {
    this.proc = spawn(kPython, [kScript, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = [];
    this.waiters = [];
    this.stderr = '';
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        msg = { type: 'garbage', line };
      }
      this.lines.push(msg);
      for (const w of [...this.waiters]) w();
    });
    this.seq = 0;
  }
  /** Resolves with the first result line (not yet taken) for which `pred` is true. */
  next(pred, what, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.lines.findIndex((m) => pred(m));
        if (i < 0) return false;
        const [m] = this.lines.splice(i, 1);
        cleanup();
        resolve(m);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`python client: no ${what} within ${timeoutMs} ms; lines so far: ` +
          `${JSON.stringify(this.lines)}\nstderr: ${this.stderr.slice(-3000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      if (!check()) this.waiters.push(check);
    });
  }
  send(cmd) {
    const id = ++this.seq;
    this.proc.stdin.write(JSON.stringify({ ...cmd, id }) + '\n');
    return id;
  }
  async request(cmd, type) {
    const id = this.send(cmd);
    const r = await this.next((m) => m.id === id || (m.type === 'error'), `${type} for ${JSON.stringify(cmd)}`);
    assert.equal(r.type, type, `reply to ${JSON.stringify(cmd)}: ${JSON.stringify(r)}`);
    return r;
  }
  connected() {
    return this.next((m) => m.type === 'connected' || m.type === 'error', 'connected line');
  }
  event(name, timeoutMs) {
    return this.next((m) => m.type === 'event' && m.event === name, `'${name}' event`, timeoutMs);
  }
  kill() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

const b64 = (buf) => ({ $bytes: Buffer.from(buf).toString('base64') });

let server;
let port;
const pys = new Set();
const nodes = new Set();
const url = () => `http://127.0.0.1:${port}`;

function py(transports) {
  const c = new PyClient({ url: url(), transports, wait_timeout: 5 });
  pys.add(c);
  return c;
}

async function nodeClient(opts = {}) {
  const s = io(url(), { forceNew: true, reconnection: false, transports: ['websocket'], ...opts });
  nodes.add(s);
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('node client: no connect within 5 s')), 5000);
    s.once('connect', () => {
      clearTimeout(t);
      resolve();
    });
  });
  return s;
}

function nodeEvent(s, event, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`node client: no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    s.once(event, (...args) => {
      clearTimeout(t);
      resolve(args);
    });
  });
}

before(async () => {
  if (skip) return;
  // python-socketio's WebSocket transport (websocket-client) always sends an Origin header equal to
  // the target (http://127.0.0.1:PORT). The Engine.IO WebSocket upgrade currently refuses that
  // same-origin Origin with 403 unless it is allow-listed (see the todo test below), so this
  // server allow-lists its own origin: that needs a port chosen before the start.
  port = await freePort();
  server = await startServer(['--threads', '2', '--port', port, '--cors-origin', `http://127.0.0.1:${port}`],
    { env: { SB_SIO_TEST: '1' } });
});
after(async () => {
  for (const c of pys) c.kill();
  for (const s of nodes) s.disconnect();
  await server?.stop();
});

const kTransports = [
  ['polling only', ['polling'], 'polling'],
  ['websocket only', ['websocket'], 'websocket'],
  ['default (polling, then upgrade)', null, 'websocket'],
];

describe('python-socketio client', { skip }, () => {
  for (const [name, transports, finalTransport] of kTransports) {
    test(`${name}: connect, unicode/nested ack, bytes, room, clean disconnect`, async () => {
      const c = py(transports);
      const hello = await c.connected();
      assert.equal(hello.type, 'connected', JSON.stringify(hello));
      assert.equal(typeof hello.sid, 'string');
      assert.equal(hello.sid.length, 20);
      if (transports) assert.equal(hello.transport, transports[0]);

      // Ack round trip: unicode (BMP, astral, RTL, combining, control chars) and nested JSON.
      const text = 'héllo ☃ 日本語 😀 𝄞 مرحبا e\u0301 "q" \\ \n\t\u0001';
      const nested = { a: { b: [1, -2.5, 1e21, { c: null, d: true, e: [] }], '键': 'värde' }, empty: {}, s: '' };
      const ack = await c.request({ op: 'emit', event: 'echo', args: [text, nested, [[[]]], 0, false], ack: true }, 'ack');
      assert.deepEqual(ack.args, [text, nested, [[[]]], 0, false]);

      // Binary attachments: top-level and nested bytes, all 256 byte values, an empty buffer.
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const small = Buffer.from([0, 1, 2, 255]);
      const bin = await c.request({
        op: 'emit', event: 'echo', ack: true,
        args: [b64(all), { nested: { b: b64(small), list: [b64(small), 'x'] } }, b64(Buffer.alloc(0))],
      }, 'ack');
      assert.deepEqual(bin.args, [b64(all), { nested: { b: b64(small), list: [b64(small), 'x'] } }, b64(Buffer.alloc(0))]);

      // Without an ack the server emits the args back as an 'echo' event.
      await c.request({ op: 'emit', event: 'echo', args: ['plain', b64(small)] }, 'sent');
      const ev = await c.event('echo');
      assert.deepEqual(ev.args, ['plain', b64(small)]);

      // Room membership as the server sees it, then a client-side disconnect empties the room.
      const room = `py-${name}`;
      const joined = await c.request({ op: 'join', room }, 'joined');
      const watcher = await nodeClient();
      assert.equal(await watcher.timeout(3000).emitWithAck('count', room), 1);
      if (finalTransport === 'websocket') {
        // The default client upgrades in the background; give it a moment, then ask again.
        let t = joined.transport;
        for (let i = 0; i < 40 && t !== 'websocket'; ++i) {
          await new Promise((r) => setTimeout(r, 50));
          t = (await c.request({ op: 'join', room }, 'joined')).transport;
        }
        assert.equal(t, 'websocket', 'python client ended on websocket');
      } else {
        assert.equal(joined.transport, 'polling');
      }
      c.send({ op: 'disconnect' });
      const bye = await c.next((m) => m.type === 'disconnected', 'disconnected line');
      assert.equal(bye.type, 'disconnected');
      const { code } = await c.exited;
      assert.equal(code, 0, `python client exit code; stderr: ${c.stderr}`);
      let n;
      for (let i = 0; i < 100; ++i) {
        n = await watcher.timeout(3000).emitWithAck('count', room);
        if (n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(n, 0, 'server removed the python socket from its room after the disconnect');
      watcher.disconnect();
    });

    test(`${name}: room broadcast Node → Python and Python → Node`, async () => {
      const room = `mixed-${name}`;
      const c = py(transports);
      assert.equal((await c.connected()).type, 'connected');
      await c.request({ op: 'join', room }, 'joined');
      const n = await nodeClient();
      n.emit('join', room);
      assert.equal(await n.timeout(3000).emitWithAck('count', room), 2);

      // Node → Python, chat(room, msg): msg forwarded untouched, binary included.
      const msg = { from: 'node', text: 'grüße 👋', nested: { list: [1, { z: null }] } };
      const nodeSelf = nodeEvent(n, 'chat');
      n.emit('chat', room, msg);
      assert.deepEqual((await c.event('chat')).args, [msg]);
      assert.deepEqual(await nodeSelf, [msg], 'the sender is in the room too');

      const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0]);
      const nodeSelfBin = nodeEvent(n, 'chat');
      n.emit('chat', room, { blob: bytes });
      assert.deepEqual((await c.event('chat')).args, [{ blob: b64(bytes) }]);
      assert.ok(Buffer.from((await nodeSelfBin)[0].blob).equals(bytes));

      // Python → Node, both chat shapes.
      const fromPy = nodeEvent(n, 'chat');
      await c.request({ op: 'chat', room, msg: { from: 'python', text: 'añb 🐍', bin: b64(bytes) } }, 'sent');
      const [got] = await fromPy;
      assert.equal(got.from, 'python');
      assert.equal(got.text, 'añb 🐍');
      assert.ok(Buffer.from(got.bin).equals(bytes), 'bytes from python arrive as a Buffer');
      assert.deepEqual((await c.event('chat')).args[0].text, 'añb 🐍', 'python gets its own broadcast');

      const hello = await c.request({ op: 'join', room }, 'joined');  // barrier + python's sid below
      void hello;
      const fromPy2 = nodeEvent(n, 'chat');
      await c.request({ op: 'emit', event: 'chat', args: [{ room, text: 'shape 2 ✓' }] }, 'sent');
      const [got2] = await fromPy2;
      assert.equal(got2.room, room);
      assert.equal(got2.text, 'shape 2 ✓');
      assert.equal(typeof got2.from, 'string');
      assert.equal(got2.from.length, 20);
      await c.event('chat');

      // After python leaves, Node's broadcasts no longer reach it.
      await c.request({ op: 'leave', room }, 'left');
      assert.equal(await n.timeout(3000).emitWithAck('count', room), 1);
      const last = nodeEvent(n, 'chat');
      n.emit('chat', room, 'only node');
      await last;
      await c.request({ op: 'emit', event: 'echo', args: ['barrier'], ack: true }, 'ack');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(c.lines.filter((m) => m.type === 'event' && m.event === 'chat').length, 0,
        `python got a chat after leaving: ${JSON.stringify(c.lines)}`);

      c.send({ op: 'disconnect' });
      assert.equal((await c.exited).code, 0, c.stderr);
      n.disconnect();
    });
  }
});

describe('same-origin Origin on the Engine.IO WebSocket upgrade', { skip }, () => {
  test('python websocket-only client connects without an allow-list', async () => {
    const other = await startServer(['--threads', '2'], { env: { SB_SIO_TEST: '1' } });
    try {
      const c = new PyClient({ url: `http://127.0.0.1:${other.port}`, transports: ['websocket'], wait_timeout: 5 });
      pys.add(c);
      const hello = await c.connected();
      assert.equal(hello.type, 'connected', JSON.stringify(hello));
      c.send({ op: 'disconnect' });
      assert.equal((await c.exited).code, 0);
    } finally {
      await other.stop();
    }
  });
});
