// Starts and stops the real `switchboard serve` binary for integration tests.
//
// The binary is $SB_BIN (default build/release/switchboard, relative to the repo root). Every server
// listens on 127.0.0.1 with port 0; the helper waits for the `listening on HOST:PORT` line. When the
// server exits, its stderr is checked for sanitizer reports (ASan, LSan, UBSan, TSan), so the same
// tests catch memory errors when SB_BIN points at the asan-ubsan build.
//
// When $SB_PIDS_DIR is set (scripts/test does that), each running server is recorded there as an
// empty file named by its PID, removed when it exits; scripts/test kills what a crashed test file
// leaves behind, and only that.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const binary = path.resolve(repoRoot, process.env.SB_BIN ?? 'build/release/switchboard');

const kSanitizerMarkers = [
  'ERROR: AddressSanitizer',
  'ERROR: LeakSanitizer',
  'runtime error:',
  'WARNING: ThreadSanitizer',
];
const kMaxKeptOutput = 4 * 1024 * 1024;

const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {}
  }
});

function pidFile(pid) {
  return process.env.SB_PIDS_DIR ? path.join(process.env.SB_PIDS_DIR, String(pid)) : null;
}

// Collects a stream's text, keeping the head and the tail when it gets big, and remembering whether
// a sanitizer marker was ever seen (even in a part that was dropped).
class OutputSink {
  constructor() {
    this.chunks = [];
    this.size = 0;
    this.dropped = 0;
    this.markers = new Set();
    this.carry = '';
  }
  push(text) {
    const scan = this.carry + text;
    for (const m of kSanitizerMarkers) if (scan.includes(m)) this.markers.add(m);
    this.carry = scan.slice(-64);
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > kMaxKeptOutput && this.chunks.length > 2) {
      const c = this.chunks.splice(1, 1)[0];
      this.size -= c.length;
      this.dropped += c.length;
    }
  }
  text() {
    if (!this.dropped) return this.chunks.join('');
    return this.chunks[0] + `\n[... ${this.dropped} chars dropped ...]\n` + this.chunks.slice(1).join('');
  }
}

const kBaseFlags = [
  ['--host', '127.0.0.1'],
  ['--port', '0'],
  ['--threads', '2'],
  ['--log-level', 'info'],
];

/**
 * Starts `switchboard serve` with the base flags plus `args` (an arg in `args` replaces the base
 * flag of the same name). Resolves once the listening line is printed (10 s max).
 * Returns { port, host, proc, stdoutText(), stderrText(), exited, stop(opts), kill(signal) }.
 */
export async function startServer(args = [], { env = {}, readyTimeoutMs = 10_000 } = {}) {
  const argv = ['serve'];
  for (const [flag, value] of kBaseFlags) {
    if (!args.includes(flag)) argv.push(flag, value);
  }
  argv.push(...args.map(String));
  if (!fs.existsSync(binary)) throw new Error(`switchboard binary not found at ${binary} (set SB_BIN)`);

  const proc = spawn(binary, argv, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const pf = pidFile(proc.pid);
  if (pf) fs.writeFileSync(pf, '');

  const out = new OutputSink();
  const err = new OutputSink();
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => err.push(d));

  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      if (pf) fs.rmSync(pf, { force: true });
      resolve({ code, signal });
    });
  });
  // 'exit' may fire before the pipes are drained; wait for both to close for the full output.
  const drained = Promise.all([
    new Promise((r) => proc.stdout.on('close', r)),
    new Promise((r) => proc.stderr.on('close', r)),
  ]);

  const ready = new Promise((resolve, reject) => {
    let lineBuf = '';
    const timer = setTimeout(() => {
      reject(new Error(`server did not print "listening on" within ${readyTimeoutMs} ms\n` +
        `argv: ${argv.join(' ')}\nstdout:\n${out.text()}\nstderr:\n${err.text()}`));
    }, readyTimeoutMs);
    proc.stdout.on('data', (d) => {
      out.push(d);
      lineBuf += d;
      const m = lineBuf.match(/listening on ([\d.]+):(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ host: m[1], port: Number(m[2]) });
      } else if (lineBuf.length > 65536) {
        lineBuf = lineBuf.slice(-1024);
      }
    });
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${code}, signal ${signal}) before listening\n` +
        `argv: ${argv.join(' ')}\nstdout:\n${out.text()}\nstderr:\n${err.text()}`));
    });
  });

  let addr;
  try {
    addr = await ready;
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }

  const server = {
    ...addr,
    proc,
    argv,
    stdoutText: () => out.text(),
    stderrText: () => err.text(),
    exited,
    lastStop: null,
    get running() {
      return proc.exitCode === null && proc.signalCode === null;
    },
    /** Throws if a sanitizer reported anything on stderr so far. */
    assertNoSanitizerReports() {
      if (err.markers.size) {
        throw new Error(`sanitizer report(s) on server stderr: ${[...err.markers].join(', ')}\n` +
          err.text().slice(-20000));
      }
    },
    /**
     * Sends `signal` (SIGTERM) and waits for the exit. Unless `expectCode` is null, asserts the exit
     * code (default 0) within `timeoutMs`; always checks stderr for sanitizer reports.
     * Resolves with the exit code; details are left in `server.lastStop` = { code, signal, ms }
     * (ms = time from the signal to the exit).
     */
    async stop({ signal = 'SIGTERM', timeoutMs = 10_000, expectCode = 0 } = {}) {
      const t0 = Date.now();
      if (server.running) proc.kill(signal);
      let timer;
      const res = await Promise.race([
        exited,
        new Promise((resolve) => {
          timer = setTimeout(() => resolve(null), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (res === null) {
        proc.kill('SIGKILL');
        await exited;
        await drained;
        throw new Error(`server did not exit within ${timeoutMs} ms of ${signal}; killed.\n` +
          `stderr tail:\n${err.text().slice(-4000)}`);
      }
      await drained;
      server.assertNoSanitizerReports();
      if (expectCode !== null && (res.code !== expectCode || res.signal)) {
        throw new Error(`server exited with code ${res.code} signal ${res.signal}, expected ${expectCode}\n` +
          `stderr tail:\n${err.text().slice(-4000)}`);
      }
      server.lastStop = { ...res, ms: Date.now() - t0 };
      return res.code;
    },
  };
  return server;
}

/** Runs the binary with arbitrary argv (not `serve` defaults) and resolves with its result. */
export function runBinary(argv, { timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, argv, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')} did not exit within ${timeoutMs} ms\nstdout:${stdout}\nstderr:${stderr}`));
    }, timeoutMs);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(proc);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A plain HTTP/1.1 request with node's http module (fresh connection, no agent). */
export function httpGet(port, urlPath, { method = 'GET', headers = {}, body, host = '127.0.0.1', timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: urlPath, method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`HTTP ${method} ${urlPath} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Parses Prometheus text exposition into a Map of `name{labels}` → number; throws on a malformed
 * sample line. Label sets are kept as written by the server.
 */
export function parseMetrics(text) {
  const samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)(?:\s+\d+)?$/);
    if (!m) throw new Error(`malformed metrics line: ${JSON.stringify(line)}`);
    const value = Number(m[2]);
    if (Number.isNaN(value) && m[2] !== 'NaN') throw new Error(`malformed metric value: ${JSON.stringify(line)}`);
    samples.set(m[1], value);
  }
  return samples;
}

export async function getMetrics(port) {
  const res = await httpGet(port, '/metrics');
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(res.body.toString('utf8'));
}

/** Sum of every sample whose `name{labels}` key matches `re`. */
export function sumMetrics(samples, re) {
  let sum = 0;
  for (const [k, v] of samples) if (re.test(k)) sum += v;
  return sum;
}

/** Value of `sb_connections_closed_total{reason="<reason>"}` (0 when absent). */
export function closedByReason(samples, reason) {
  return sumMetrics(samples, new RegExp(`^sb_connections_closed_total\\{.*reason="${reason}".*\\}$`));
}

/** Asserts /healthz answers 200 ok: the server is still up and serving. */
export async function assertHealthy(port) {
  const res = await httpGet(port, '/healthz');
  if (res.status !== 200 || res.body.toString().trim() !== 'ok') {
    throw new Error(`/healthz answered ${res.status} ${JSON.stringify(res.body.toString())}`);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` (async, returns truthy when done) every `intervalMs` until `timeoutMs`. */
export async function waitUntil(fn, { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` + (last instanceof Error ? `: ${last.message}` : ''));
    }
    await sleep(intervalMs);
  }
}
