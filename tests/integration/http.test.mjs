// HTTP/1.1 surface of `switchboard serve`: health, metrics, static files, keep-alive, pipelining,
// and the strict parser's answers to bad or oversized requests.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertHealthy, getMetrics, httpGet, parseMetrics, startServer } from './lib/server.mjs';
import { RawConn, exchange } from './lib/raw.mjs';

// A web root with a few file types, a sub-directory, and a secret file *outside* the root that no
// request may ever reach.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-http-'));
const root = path.join(tmp, 'www');
const kSecret = `secret-${crypto.randomBytes(8).toString('hex')}`;
const files = {
  'index.html': '<!doctype html><title>switchboard</title><p>index page</p>\n',
  'style.css': 'body { color: #123456; }\n',
  'app.js': 'console.log("hello from app.js");\n',
  'data.json': '{"answer":42}\n',
  'sub/page.html': '<p>sub page</p>\n',
};
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), crypto.randomBytes(3000)]);

let server;
before(async () => {
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(root, name), content);
  fs.writeFileSync(path.join(root, 'image.png'), png);
  fs.writeFileSync(path.join(tmp, 'secret.txt'), kSecret);
  server = await startServer(['--web-root', root]);
});
after(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const req = (line, headers = ['Host: 127.0.0.1'], body = '') => `${line}\r\n${headers.map((h) => h + '\r\n').join('')}\r\n${body}`;

/** One request on a fresh connection; asserts the server closes after `closeAfter` when given. */
async function once(request, { method, closeAfter = false } = {}) {
  const { response, conn } = await exchange(server.port, request, { method });
  try {
    assert.ok(response, `no response (connection closed) for ${JSON.stringify(request.slice(0, 80))}`);
    if (closeAfter) assert.ok(await conn.waitClosed(5000), 'server kept the connection open after the error');
    return response;
  } finally {
    conn.destroy();
  }
}

describe('health and metrics', () => {
  test('GET /healthz answers 200 ok', async () => {
    const res = await httpGet(server.port, '/healthz');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString().trim(), 'ok');
  });

  test('GET /metrics is Prometheus text with connection counters that move', async () => {
    const res = await httpGet(server.port, '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
    const text = res.body.toString('utf8');
    assert.match(text, /^# TYPE sb_connections_accepted_total counter$/m);
    const before1 = parseMetrics(text);
    const accepted = before1.get('sb_connections_accepted_total');
    assert.ok(accepted >= 1, `sb_connections_accepted_total = ${accepted}`);
    // Three more connections must be counted.
    for (let i = 0; i < 3; i++) await assertHealthy(server.port);
    const after1 = await getMetrics(server.port);
    assert.ok(after1.get('sb_connections_accepted_total') >= accepted + 4,
      `accepted went from ${accepted} to ${after1.get('sb_connections_accepted_total')}`);
    assert.ok([...after1.keys()].some((k) => k.startsWith('sb_connections_closed_total{')),
      'no sb_connections_closed_total{reason=...} sample');
  });
});

describe('static files', () => {
  test('GET / serves index.html as text/html', async () => {
    const res = await httpGet(server.port, '/');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/html/);
    assert.equal(res.body.toString(), files['index.html']);
  });

  const types = [
    ['/index.html', /^text\/html/, files['index.html']],
    ['/style.css', /^text\/css/, files['style.css']],
    ['/app.js', /^(text|application)\/javascript/, files['app.js']],
    ['/data.json', /^application\/json/, files['data.json']],
    ['/sub/page.html', /^text\/html/, files['sub/page.html']],
    ['/image.png', /^image\/png$/, png],
  ];
  for (const [p, type, content] of types) {
    test(`GET ${p}: exact bytes, Content-Type ${type.source}, Content-Length`, async () => {
      const res = await httpGet(server.port, p);
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'] ?? '', type);
      assert.ok(res.body.equals(Buffer.from(content)), 'body differs from the file');
      assert.equal(Number(res.headers['content-length']), Buffer.byteLength(content));
    });
  }

  test('ETag and If-None-Match: 304 without body; a different tag gets 200', async () => {
    const first = await httpGet(server.port, '/style.css');
    const etag = first.headers.etag;
    assert.ok(etag, 'no ETag header');
    const again = await httpGet(server.port, '/style.css');
    assert.equal(again.headers.etag, etag, 'ETag is not stable');
    const cached = await once(req('GET /style.css HTTP/1.1', ['Host: x', `If-None-Match: ${etag}`, 'Connection: close']));
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
    const other = await httpGet(server.port, '/style.css', { headers: { 'If-None-Match': '"not-the-tag"' } });
    assert.equal(other.status, 200);
    assert.equal(other.body.toString(), files['style.css']);
    const otherFile = await httpGet(server.port, '/app.js');
    assert.notEqual(otherFile.headers.etag, etag, 'two different files share an ETag');
  });

  test('HEAD has the GET headers and no body (checked by pipelining a GET after it)', async () => {
    const conn = await RawConn.open(server.port);
    try {
      await conn.write(req('HEAD /index.html HTTP/1.1') + req('GET /healthz HTTP/1.1'));
      const head = await conn.readResponse({ method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(Number(head.headers['content-length']), Buffer.byteLength(files['index.html']));
      assert.match(head.headers['content-type'], /^text\/html/);
      const next = await conn.readResponse();
      assert.equal(next.status, 200, 'response after HEAD is not the /healthz one (HEAD sent a body?)');
      assert.equal(next.body.toString().trim(), 'ok');
    } finally {
      conn.destroy();
    }
  });

  test('unknown path answers 404', async () => {
    const res = await httpGet(server.port, '/no/such/file.txt');
    assert.equal(res.status, 404);
  });

  const traversals = [
    '/../secret.txt',
    '/sub/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/..%2fsecret.txt',
    '/sub/%2e%2e/%2e%2e/secret.txt',
    '/..\\secret.txt',
    '/.%2e/secret.txt',
    `/${'../'.repeat(20)}etc/passwd`,
  ];
  for (const p of traversals) {
    test(`path traversal ${p} → 400 or 404, never a file outside the root`, async () => {
      const res = await once(req(`GET ${p} HTTP/1.1`, ['Host: x', 'Connection: close']));
      assert.ok([400, 404].includes(res.status), `status ${res.status}`);
      assert.ok(!res.body.toString('latin1').includes(kSecret), 'served the secret file');
      assert.ok(!res.body.toString('latin1').includes('root:x:0:0'), 'served /etc/passwd');
    });
  }
});

describe('connection handling', () => {
  test('keep-alive: several requests on one connection, which stays open', async () => {
    const conn = await RawConn.open(server.port);
    try {
      for (let i = 0; i < 5; i++) {
        await conn.write(req('GET /healthz HTTP/1.1'));
        const res = await conn.readResponse();
        assert.equal(res?.status, 200, `request ${i}`);
        assert.equal(res.body.toString().trim(), 'ok');
      }
      assert.equal(await conn.waitClosed(300), false, 'server closed a keep-alive connection');
    } finally {
      conn.destroy();
    }
  });

  test('pipelining: requests in one write are answered in order', async () => {
    const conn = await RawConn.open(server.port);
    try {
      await conn.write(req('GET /style.css HTTP/1.1') + req('GET /missing HTTP/1.1') +
        req('GET /healthz HTTP/1.1') + req('GET /data.json HTTP/1.1'));
      const a = await conn.readResponse();
      const b = await conn.readResponse();
      const c = await conn.readResponse();
      const d = await conn.readResponse();
      assert.deepEqual([a.status, b.status, c.status, d.status], [200, 404, 200, 200]);
      assert.equal(a.body.toString(), files['style.css']);
      assert.equal(c.body.toString().trim(), 'ok');
      assert.equal(d.body.toString(), files['data.json']);
    } finally {
      conn.destroy();
    }
  });

  test('pipelined requests split at every byte still parse (one request per TCP segment boundary)', async () => {
    const conn = await RawConn.open(server.port);
    try {
      const bytes = Buffer.from(req('GET /healthz HTTP/1.1') + req('GET /data.json HTTP/1.1'), 'latin1');
      for (let i = 0; i < bytes.length; i += 7) {
        await conn.write(bytes.subarray(i, i + 7));
        await new Promise((r) => setTimeout(r, 2));
      }
      assert.equal((await conn.readResponse()).status, 200);
      const d = await conn.readResponse();
      assert.equal(d.status, 200);
      assert.equal(d.body.toString(), files['data.json']);
    } finally {
      conn.destroy();
    }
  });

  test('Connection: close is honoured', async () => {
    const res = await once(req('GET /healthz HTTP/1.1', ['Host: x', 'Connection: close']), { closeAfter: true });
    assert.equal(res.status, 200);
  });

  test('HTTP/1.0 without keep-alive closes after the response', async () => {
    const res = await once('GET /healthz HTTP/1.0\r\n\r\n', { closeAfter: true });
    assert.equal(res.status, 200);
  });
});

describe('request limits and malformed requests', () => {
  test('a header block under 16 KiB is accepted', async () => {
    const res = await once(req('GET /healthz HTTP/1.1', ['Host: x', `X-Pad: ${'a'.repeat(15000)}`, 'Connection: close']));
    assert.equal(res.status, 200);
  });

  test('header block over 16 KiB → 431 and close', async () => {
    const res = await once(req('GET /healthz HTTP/1.1', ['Host: x', `X-Big: ${'a'.repeat(17000)}`]), { closeAfter: true });
    assert.equal(res.status, 431);
  });

  test('header block over 16 KiB spread over many headers → 431 and close', async () => {
    const hs = ['Host: x'];
    for (let i = 0; i < 40; i++) hs.push(`X-H${i}: ${'b'.repeat(500)}`);
    const res = await once(req('GET /healthz HTTP/1.1', hs), { closeAfter: true });
    assert.equal(res.status, 431);
  });

  test('50 headers are fine; 150 headers → 431', async () => {
    const some = ['Host: x', 'Connection: close'];
    for (let i = 0; i < 48; i++) some.push(`X-H${i}: v`);
    assert.equal((await once(req('GET /healthz HTTP/1.1', some))).status, 200);
    const many = ['Host: x'];
    for (let i = 0; i < 150; i++) many.push(`X-H${i}: v`);
    const res = await once(req('GET /healthz HTTP/1.1', many), { closeAfter: true });
    assert.equal(res.status, 431);
  });

  test('declared body over 1 MiB → 413', async () => {
    const res = await once(req('POST /healthz HTTP/1.1', ['Host: x', 'Content-Length: 2000000']));
    assert.equal(res.status, 413);
  });

  const bad400 = [
    ['garbage request line', 'GARBAGE\r\n\r\n'],
    ['missing target and version', 'GET\r\n\r\n'],
    ['missing version', 'GET /healthz\r\nHost: x\r\n\r\n'],
    ['double space', 'GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['trailing junk after version', 'GET /healthz HTTP/1.1 junk\r\nHost: x\r\n\r\n'],
    ['not HTTP', 'GET /healthz FTP/1.1\r\nHost: x\r\n\r\n'],
    ['header without colon', 'GET /healthz HTTP/1.1\r\nHost x\r\n\r\n'],
    ['space before colon', 'GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n'],
    ['NUL in header value', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'],
    ['negative Content-Length', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'],
    ['non-numeric Content-Length', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'],
    ['conflicting Content-Length', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
    ['Content-Length and Transfer-Encoding',
      'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ];
  for (const [name, bytes] of bad400) {
    test(`${name} → 400`, async () => {
      const res = await once(bytes, { method: 'GET' });
      assert.equal(res.status, 400);
      await assertHealthy(server.port);
    });
  }

  test('well-formed unknown method BREW → 405', async () => {
    const res = await once(req('BREW /healthz HTTP/1.1', ['Host: x', 'Connection: close']));
    assert.equal(res.status, 405);
  });

  test('method with invalid token characters → 400 or 405', async () => {
    const res = await once(req('G(T /healthz HTTP/1.1', ['Host: x', 'Connection: close']));
    assert.ok([400, 405].includes(res.status), `status ${res.status}`);
  });

  for (const v of ['HTTP/2.0', 'HTTP/1.2', 'HTTP/3.0']) {
    test(`version ${v} → 505`, async () => {
      const res = await once(req(`GET /healthz ${v}`, ['Host: x', 'Connection: close']));
      assert.equal(res.status, 505);
    });
  }

  test('chunked request body → 411 (unsupported, documented)', async () => {
    const res = await once(req('POST /healthz HTTP/1.1', ['Host: x', 'Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'));
    assert.equal(res.status, 411);
  });

  test('the server is healthy after all of the above', async () => {
    await assertHealthy(server.port);
  });
});

describe('limits from flags', () => {
  let small;
  before(async () => {
    small = await startServer(['--max-body-bytes', '1000', '--max-header-bytes', '2048', '--max-headers', '10']);
  });
  after(async () => {
    await small?.stop();
  });
  const one = async (request) => {
    const { response, conn } = await exchange(small.port, request);
    conn.destroy();
    assert.ok(response, 'no response');
    return response;
  };

  test('--max-body-bytes 1000: 1001 bytes → 413; 1000 bytes not 413', async () => {
    const over = await one(req('POST /healthz HTTP/1.1', ['Host: x', 'Content-Length: 1001', 'Connection: close'], 'x'.repeat(1001)));
    assert.equal(over.status, 413);
    const at = await one(req('POST /healthz HTTP/1.1', ['Host: x', 'Content-Length: 1000', 'Connection: close'], 'x'.repeat(1000)));
    assert.notEqual(at.status, 413);
  });

  test('--max-header-bytes 2048: a 3000-byte header → 431; 1000 bytes → 200', async () => {
    assert.equal((await one(req('GET /healthz HTTP/1.1', ['Host: x', `X-A: ${'a'.repeat(3000)}`]))).status, 431);
    assert.equal((await one(req('GET /healthz HTTP/1.1', ['Host: x', `X-A: ${'a'.repeat(1000)}`, 'Connection: close']))).status, 200);
  });

  test('--max-headers 10: 12 headers → 431; 5 headers → 200', async () => {
    const hs = (n) => ['Host: x', 'Connection: close', ...Array.from({ length: n - 2 }, (_, i) => `X-H${i}: v`)];
    assert.equal((await one(req('GET /healthz HTTP/1.1', hs(12)))).status, 431);
    assert.equal((await one(req('GET /healthz HTTP/1.1', hs(5)))).status, 200);
  });
});
