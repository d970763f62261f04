// bench/plot.mjs, the dependency-free PNG writer behind bench/run's plot: which figures become
// bars (ratios, inverted where lower is better; absolute targets such as the Redis hop in ms
// get none), and that the PNG it writes decodes back to the size it claims.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barChartPng, barsOfResults, crc32, decodePngInfo } from '../../bench/plot.mjs';

const results = {
  scenarios: [
    {
      name: 'fanout',
      metrics: [{ key: 'per_cpu_s', label: 'per CPU-s', better: 'higher' }],
      summary: { per_cpu_s: { ratio: 8 } },
    },
    {
      name: 'cluster-hop',
      metrics: [
        { key: 'remote_p99_ms', label: 'remote p99', better: 'lower' },
        { key: 'hop_p99_ms', label: 'hop p99', better: 'lower', absolute: true },
      ],
      summary: { remote_p99_ms: { ratio: 0.25 }, hop_p99_ms: { ratio: -3 } },
    },
  ],
};

test('bars: ratios as "x better", lower-is-better inverted, absolute figures left out', () => {
  const bars = barsOfResults(results);
  assert.deepEqual(bars, [
    { label: 'fanout: per CPU-s', value: 8 },
    { label: 'cluster-hop: remote p99', value: 4 },
  ]);
});

test('the PNG decodes to the size it declares, with valid chunk CRCs', () => {
  const png = barChartPng({ title: 'test', bars: barsOfResults(results), note: 'a note' });
  const info = decodePngInfo(png);
  assert.ok(info.width > 100 && info.height > 50, `${info.width}x${info.height}`);
  assert.equal(info.bytes, (info.width * 3 + 1) * info.height);
  // Every chunk's CRC covers its type and data.
  let pos = 8;
  let chunks = 0;
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const crc = png.readUInt32BE(pos + 8 + len);
    assert.equal(crc32(png.subarray(pos + 4, pos + 8 + len)), crc);
    pos += 12 + len;
    ++chunks;
  }
  assert.ok(chunks >= 3);
  // A non-finite or negative value draws an empty bar rather than failing.
  const odd = barChartPng({ title: 't', bars: [{ label: 'x', value: NaN }, { label: 'y', value: -1 }] });
  const oddInfo = decodePngInfo(odd);
  assert.equal(oddInfo.bytes, (oddInfo.width * 3 + 1) * oddInfo.height);
});
