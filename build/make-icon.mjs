// Writes build/icon.png (512x512) from the shapes of build/icon.svg, with no
// image tooling: each pixel is 4x4-supersampled and the PNG is encoded with
// node:zlib. Run `node build/make-icon.mjs` after changing the design.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const TEAL = [0x1d, 0x5c, 0x63];
const WHITE = [0xff, 0xff, 0xff];

function inRoundedRect(x, y, left, top, width, height, radius) {
  const cx = Math.min(Math.max(x, left + radius), left + width - radius);
  const cy = Math.min(Math.max(y, top + radius), top + height - radius);
  return (
    x >= left &&
    x <= left + width &&
    y >= top &&
    y <= top + height &&
    (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2
  );
}

function inTriangle(x, y, [ax, ay], [bx, by], [cx, cy]) {
  const side = (px, py, qx, qy) => (x - qx) * (py - qy) - (px - qx) * (y - qy);
  const d1 = side(ax, ay, bx, by);
  const d2 = side(bx, by, cx, cy);
  const d3 = side(cx, cy, ax, ay);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
}

/** The colour at a point, or undefined outside the icon (transparent). */
function colourAt(x, y) {
  if (!inRoundedRect(x, y, 0, 0, SIZE, SIZE, 112)) return undefined;
  for (const dx of [190, 256, 322]) if ((x - dx) ** 2 + (y - 236) ** 2 <= 22 ** 2) return TEAL;
  if (inRoundedRect(x, y, 104, 128, 304, 216, 76)) return WHITE;
  if (inTriangle(x, y, [156, 320], [236, 320], [140, 408])) return WHITE;
  return TEAL;
}

const SAMPLES = 4;
const rows = [];
for (let y = 0; y < SIZE; y++) {
  const row = Buffer.alloc(1 + SIZE * 4); // filter byte 0, then RGBA
  for (let x = 0; x < SIZE; x++) {
    let r = 0,
      g = 0,
      b = 0,
      a = 0;
    for (let sy = 0; sy < SAMPLES; sy++)
      for (let sx = 0; sx < SAMPLES; sx++) {
        const c = colourAt(x + (sx + 0.5) / SAMPLES, y + (sy + 0.5) / SAMPLES);
        if (!c) continue;
        r += c[0];
        g += c[1];
        b += c[2];
        a += 1;
      }
    const o = 1 + x * 4;
    if (a)
      row.set(
        [
          Math.round(r / a),
          Math.round(g / a),
          Math.round(b / a),
          Math.round((255 * a) / SAMPLES ** 2),
        ],
        o,
      );
  }
  rows.push(row);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, no filter method, no interlace
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const target = new URL('./icon.png', import.meta.url);
writeFileSync(target, png);
process.stdout.write(`wrote ${target.pathname} (${png.length} bytes)\n`);
