// CORS: which origins get Access-Control-Allow-Origin, preflight answers, and the default of no
// cross-origin access at all.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { httpGet, startServer } from './lib/server.mjs';

describe('with --cors-origin http://a.example --cors-origin http://c.example', () => {
  let server;
  before(async () => {
    server = await startServer(['--cors-origin', 'http://a.example', '--cors-origin', 'http://c.example']);
  });
  after(async () => {
    await server?.stop();
  });

  test('an allowed Origin gets Access-Control-Allow-Origin echoing it', async () => {
    for (const origin of ['http://a.example', 'http://c.example']) {
      const res = await httpGet(server.port, '/healthz', { headers: { Origin: origin } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['access-control-allow-origin'], origin);
    }
  });

  test('another Origin gets no Access-Control-Allow-Origin', async () => {
    for (const origin of ['http://b.example', 'http://a.example.evil', 'https://a.example', 'null']) {
      const res = await httpGet(server.port, '/healthz', { headers: { Origin: origin } });
      assert.equal(res.status, 200, `origin ${origin}`);
      assert.equal(res.headers['access-control-allow-origin'], undefined, `origin ${origin}`);
    }
  });

  test('no Origin header → no CORS headers', async () => {
    const res = await httpGet(server.port, '/healthz');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  test('OPTIONS preflight from an allowed origin → 204 with allow headers', async () => {
    const res = await httpGet(server.port, '/healthz', {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://a.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers['access-control-allow-origin'], 'http://a.example');
    const methods = (res.headers['access-control-allow-methods'] ?? '').toUpperCase();
    assert.match(methods, /\bGET\b/);
    assert.match(methods, /\bPOST\b/);
    assert.match((res.headers['access-control-allow-headers'] ?? '').toLowerCase(), /content-type/);
  });

  test('OPTIONS preflight from another origin gets no Access-Control-Allow-Origin', async () => {
    const res = await httpGet(server.port, '/healthz', {
      method: 'OPTIONS',
      headers: { Origin: 'http://b.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });
});

describe('without --cors-origin', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('no origin is allowed cross-origin', async () => {
    const res = await httpGet(server.port, '/healthz', { headers: { Origin: 'http://a.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const pre = await httpGet(server.port, '/healthz', {
      method: 'OPTIONS',
      headers: { Origin: 'http://a.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
  });
});
