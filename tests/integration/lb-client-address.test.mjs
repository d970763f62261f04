// A node behind a trusted balancer records the client's own address in its handshake (from the
// X-Forwarded-For entry the balancer appended); a node that does not trust its peer ignores a
// client's forged X-Forwarded-For.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectClient, startLb, startServer } from './lib/lb.mjs';

describe('client address through the balancer', () => {
  let trusting;
  let plain;
  let lb;
  before(async () => {
    trusting = await startServer(['--threads', '1', '--node-id', '1', '--trusted-proxy', '127.0.0.1']);
    trusting.addr = `127.0.0.1:${trusting.port}`;
    plain = await startServer(['--threads', '1', '--node-id', '2']);
    lb = await startLb([trusting], 'sid');
  });
  after(async () => {
    await lb?.stop();
    await trusting?.stop();
    await plain?.stop();
  });

  for (const transports of [['polling'], ['websocket'], ['polling', 'websocket']]) {
    test(`${transports.join('+')}: the handshake records the client's source address`, async () => {
      const c = await connectClient(lb.url, { source: '127.0.0.23', transports });
      try {
        assert.equal(await c.socket.timeout(5000).emitWithAck('address'), '127.0.0.23');
      } finally {
        c.close();
      }
    });
  }

  test('an untrusted peer cannot forge its address with X-Forwarded-For', async () => {
    const { io } = await import('socket.io-client');
    const s = io(`http://127.0.0.1:${plain.port}`, {
      forceNew: true, reconnection: false, transports: ['polling'],
      extraHeaders: { 'X-Forwarded-For': '203.0.113.9' },
    });
    try {
      await new Promise((resolve, reject) => {
        s.on('connect', resolve);
        s.on('connect_error', reject);
      });
      assert.equal(await s.timeout(5000).emitWithAck('address'), '127.0.0.1');
    } finally {
      s.disconnect();
    }
  });
});
