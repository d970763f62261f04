// Shared by the bench-*.test.mjs files: run `switchboard bench` to completion, and start the
// Node.js Socket.IO baseline (bench/baseline/server.mjs) the way bench/run does.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { binary, repoRoot } from './server.mjs';

// Runs the generator to completion (it stops by itself; the watchdog is only for a hang).
// Resolves with { code, signal, out, err }.
export function runBench(args, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['bench', ...args.map(String), '--no-progress'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

// Starts bench/baseline/server.mjs on a free port with `extraArgs` (e.g. ['--redis', url]);
// resolves with { port, pid, kind: 'node', stop() } once it prints its listening line.
export function startBaseline(extraArgs = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath,
      [path.join(repoRoot, 'bench/baseline/server.mjs'), '0', ...extraArgs],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`baseline did not start: ${out}`));
    }, 10_000);
    proc.stderr.on('data', (d) => { out += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on [\d.]+:(\d+) pid (\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          port: Number(m[1]),
          pid: Number(m[2]),
          kind: 'node',
          stop: () => new Promise((res) => {
            if (proc.exitCode !== null) return res();
            proc.once('exit', res);
            proc.kill('SIGTERM');
          }),
        });
      }
    });
    proc.on('exit', () => reject(new Error(`baseline exited: ${out}`)));
  });
}
