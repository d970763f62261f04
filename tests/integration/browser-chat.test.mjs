// The chat page in real headless Chromium (Debian's chromium driven by playwright-core): two
// pages served by the node talk through /raw/chat. This is what a person sees: the static page
// loads, the browser's same-origin WebSocket (with its Origin header) is accepted, messages cross.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from './lib/server.mjs';

const kChromium = '/usr/bin/chromium';
const kArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

test('two browser pages chat through /raw/chat', { skip: !fs.existsSync(kChromium) && 'no chromium' }, async () => {
  const server = await startServer();
  const browser = await chromium.launch({ executablePath: kChromium, args: kArgs });
  try {
    const url = `http://127.0.0.1:${server.port}/`;
    const [a, b] = [await browser.newPage(), await browser.newPage()];
    await a.goto(url);
    await b.goto(url);
    await a.waitForSelector('#status >> text=/^connected$/', { timeout: 15_000 });
    await b.waitForSelector('#status >> text=/^connected$/', { timeout: 15_000 });
    await a.fill('#name', 'alice');
    await a.fill('#text', 'hello from A');
    await a.click('button');
    await b.fill('#name', 'bob');
    await b.fill('#text', 'hi alice, B here');
    await b.click('button');
    for (const page of [a, b]) {
      await page.waitForSelector('#log >> text=hello from A', { timeout: 15_000 });
      await page.waitForSelector('#log >> text=hi alice, B here', { timeout: 15_000 });
    }
    const lines = await a.$$eval('#log li', (els) => els.map((e) => e.textContent));
    assert.deepEqual(lines, ['alicehello from A', 'bobhi alice, B here']);
  } finally {
    await browser.close();
    assert.equal(await server.stop(), 0);
  }
});

test('a page from another origin is refused the WebSocket (403), same origin accepted', async () => {
  const server = await startServer();
  try {
    const res = await new Promise((resolve, reject) => {
      import('node:http').then(({ default: http }) => {
        const req = http.get({
          host: '127.0.0.1', port: server.port, path: '/raw/chat',
          headers: {
            Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
            'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', Origin: 'http://evil.example',
          },
        });
        req.on('response', (r) => { r.resume(); resolve(r.statusCode); });
        req.on('upgrade', (r, sock) => { sock.destroy(); resolve(101); });
        req.on('error', reject);
      });
    });
    assert.equal(res, 403);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
