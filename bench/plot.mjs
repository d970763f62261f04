// A dependency-free PNG bar chart of the benchmark ratios (bench/run writes results/<date>.png
// with it). The machine has neither matplotlib nor gnuplot, and a plot is not worth a package in
// CI: this draws into an RGB pixel buffer with a built-in 5×7 bitmap font and encodes the PNG
// itself (zlib.deflateSync for IDAT, CRC-32 per chunk; PNG spec, ISO/IEC 15948).
//
//   import { barChartPng } from './plot.mjs';
//   fs.writeFileSync('x.png', barChartPng({ title, bars: [{ label, value }], note }));
//   node bench/plot.mjs results/<date>.json out.png      (redraws a chart from a results file)
//
// Bars are "times better than Node.js" (1 = equal; a vertical line marks it); lowercase text is
// drawn in capitals (the font has one case).

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

// ---- font: 7 rows of 5 bits per glyph (bit 4 = leftmost column) -------------------------------
const GLYPHS = {
  A: [0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11], B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e], D: [0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f], F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f], H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e], J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11], N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d], R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e], T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a], X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04], Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
  0: [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], 1: [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  2: [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], 3: [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  4: [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], 5: [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  6: [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], 7: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  8: [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], 9: [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  ' ': [0, 0, 0, 0, 0, 0, 0], '.': [0, 0, 0, 0, 0, 0x0c, 0x0c], ',': [0, 0, 0, 0, 0x0c, 0x04, 0x08],
  ':': [0, 0x0c, 0x0c, 0, 0x0c, 0x0c, 0], ';': [0, 0x0c, 0x0c, 0, 0x0c, 0x04, 0x08],
  '-': [0, 0, 0, 0x1f, 0, 0, 0],
  '/': [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0], '(': [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
  ')': [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08], '%': [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
  '=': [0, 0, 0x1f, 0, 0x1f, 0, 0], '+': [0, 0x04, 0x04, 0x1f, 0x04, 0x04, 0],
  '*': [0, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0], _: [0, 0, 0, 0, 0, 0, 0x1f],
  "'": [0x04, 0x04, 0x08, 0, 0, 0, 0], '?': [0x0e, 0x11, 0x01, 0x02, 0x04, 0, 0x04],
  '<': [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02], '>': [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
  '|': [0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04], '"': [0x0a, 0x0a, 0, 0, 0, 0, 0],
};
// What the labels may contain beyond the font: folded to a glyph that reads the same.
const FOLD = { '×': '*', '–': '-', '—': '-', '≤': '<', '≥': '>' };

const SCALE = 2; // 10×14 pixel glyphs
const ADVANCE = 6 * SCALE; // glyph + one column of space
const LINE = 7 * SCALE;

class Canvas {
  constructor(width, height, bg = [255, 255, 255]) {
    this.width = width;
    this.height = height;
    this.px = Buffer.alloc(width * height * 3);
    this.rect(0, 0, width, height, bg);
  }

  rect(x0, y0, w, h, rgb) {
    const x1 = Math.min(this.width, Math.max(0, Math.round(x0 + w)));
    const y1 = Math.min(this.height, Math.max(0, Math.round(y0 + h)));
    for (let y = Math.max(0, Math.round(y0)); y < y1; ++y) {
      for (let x = Math.max(0, Math.round(x0)); x < x1; ++x) {
        const i = (y * this.width + x) * 3;
        this.px[i] = rgb[0];
        this.px[i + 1] = rgb[1];
        this.px[i + 2] = rgb[2];
      }
    }
  }

  /** Draws `text` with its top-left corner at (x, y); returns the x after it. */
  text(x, y, text, rgb = [0, 0, 0]) {
    for (const raw of String(text)) {
      const ch = (FOLD[raw] ?? raw).toUpperCase();
      const g = GLYPHS[ch] ?? GLYPHS['?'];
      for (let row = 0; row < 7; ++row) {
        for (let col = 0; col < 5; ++col) {
          if (g[row] & (0x10 >> col)) this.rect(x + col * SCALE, y + row * SCALE, SCALE, SCALE, rgb);
        }
      }
      x += ADVANCE;
    }
    return x;
  }

  png() {
    // Each scanline: filter type 0 (none), then RGB bytes.
    const stride = this.width * 3;
    const raw = Buffer.alloc((stride + 1) * this.height);
    for (let y = 0; y < this.height; ++y) {
      raw[y * (stride + 1)] = 0;
      this.px.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
    }
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(this.width, 0);
    ihdr.writeUInt32BE(this.height, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // colour type: truecolour RGB
    ihdr[10] = 0; // deflate
    ihdr[11] = 0; // adaptive filtering (per-line filter byte)
    ihdr[12] = 0; // no interlace
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; ++n) {
    let c = n;
    for (let k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A horizontal bar chart: one bar per {label, value}, value = Switchboard/Node ("× better").
 * Returns the PNG bytes.
 */
export function barChartPng({ title, bars, note = '' }) {
  const labelChars = Math.max(10, ...bars.map((b) => [...b.label].length));
  const left = 16 + labelChars * ADVANCE + 12;
  const barArea = 560;
  const right = 120; // the value after the bar
  const rowH = LINE + 14;
  const top = 16 + LINE + 16 + LINE + 12; // title, axis caption
  const width = left + barArea + right;
  const height = top + bars.length * rowH + 12 + (note ? LINE + 12 : 0) + 8;
  const c = new Canvas(width, height);
  c.text(16, 16, title);
  const values = bars.map((b) => (Number.isFinite(b.value) && b.value > 0 ? b.value : 0));
  const max = Math.max(1, ...values) * 1.05;
  const xOf = (v) => left + (v / max) * barArea;
  c.text(left, 16 + LINE + 16, 'Switchboard / Node.js (x better; line = 1)', [80, 80, 80]);
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    c.text(16, y + 4, b.label);
    const v = values[i];
    const colour = v >= 1 ? [60, 140, 90] : [200, 80, 60];
    c.rect(left, y, Math.max(1, xOf(v) - left), rowH - 6, colour);
    c.text(xOf(v) + 8, y + 4, Number.isFinite(b.value) ? `${b.value.toFixed(2)}x` : 'n/a');
  });
  // The "equal" line, over the bars.
  c.rect(Math.round(xOf(1)) - 1, top - 6, 2, bars.length * rowH + 4, [0, 0, 0]);
  if (note) c.text(16, top + bars.length * rowH + 12, note, [80, 80, 80]);
  return c.png();
}

/** Reads back width, height and the inflated size of a PNG written by barChartPng (checks). */
export function decodePngInfo(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (crc32(buf.subarray(pos + 4, pos + 8 + len)) !== buf.readUInt32BE(pos + 8 + len)) {
      throw new Error(`bad CRC in ${type}`);
    }
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
    }
    if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  if (raw.length !== (width * 3 + 1) * height) throw new Error('IDAT size does not match IHDR');
  return { width, height, bytes: raw.length };
}

/** The bars of a bench/run results file: every figure of every scenario, as "× better". */
export function barsOfResults(results) {
  // Absolute figures (a target in ms, not a ratio to Node.js) have no bar.
  return results.scenarios.flatMap((sc) => sc.metrics.filter((m) => !m.absolute).map((m) => {
    const r = sc.summary[m.key]?.ratio;
    return { label: `${sc.name}: ${m.label}`, value: m.better === 'lower' ? 1 / r : r };
  }));
}

// CLI: node bench/plot.mjs RESULTS.json OUT.png
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node bench/plot.mjs RESULTS.json OUT.png');
    process.exit(2);
  }
  const results = JSON.parse(fs.readFileSync(input, 'utf8'));
  const png = barChartPng({
    title: `Switchboard vs Node.js Socket.IO, ${results.mode} run ${results.date.slice(0, 10)}`,
    bars: barsOfResults(results),
  });
  fs.writeFileSync(output, png);
  const info = decodePngInfo(png);
  console.log(`wrote ${output}: ${info.width}x${info.height}`);
}
