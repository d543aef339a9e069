import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BlobOpener } from '../../../electron/core/attachments/blob-opener.ts';
import { ciphertextSize, paddedSize } from '../../../shared/protocol/attachment.ts';
import { thrownCode } from '../../support/errors.ts';

// BlobOpener decrypts a blob fed in the order a download receives it, in any
// chunking (the IV split over chunks, the MAC tag with or without ciphertext
// before it). Hostile blobs: too long, too short, bad CBC padding, non-zero
// zero padding; each is ATTACHMENT_TAMPERED. Blobs are built here from the
// layout itself (an independent reference).

const KEY = randomBytes(64);

/** A blob of `plain` with the padding bytes `pad` (zeros for a honest sender). */
function blobOf(plain: Buffer, pad = 0): Buffer {
  const padding = Buffer.alloc(paddedSize(plain.length) - plain.length, pad);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', KEY.subarray(0, 32), iv);
  const body = Buffer.concat([iv, cipher.update(Buffer.concat([plain, padding])), cipher.final()]);
  return Buffer.concat([body, createHmac('sha256', KEY.subarray(32)).update(body).digest()]);
}

function open(blob: Buffer, size: number, cut: number): Buffer {
  const opener = new BlobOpener(size, KEY);
  const out: Buffer[] = [];
  for (let at = 0; at < blob.length; at += cut)
    out.push(opener.update(blob.subarray(at, at + cut)));
  out.push(opener.finish());
  return Buffer.concat(out);
}

describe('BlobOpener', () => {
  it('gives the plaintext whatever the chunking (1, 5, 16, 17, 4096 bytes, whole)', () => {
    for (const size of [0, 1, 15, 16, 541, 70_000]) {
      const plain = randomBytes(size);
      const blob = blobOf(plain);
      expect(blob.length).toBe(ciphertextSize(size));
      for (const cut of [1, 5, 16, 17, 4096, blob.length])
        expect(open(blob, size, cut).equals(plain)).toBe(true);
    }
  });

  it('a blob longer than its size: ATTACHMENT_TAMPERED at the first byte too many', () => {
    const blob = blobOf(randomBytes(100));
    const opener = new BlobOpener(100, KEY);
    opener.update(blob);
    expect(thrownCode(() => opener.update(Buffer.alloc(1)))).toBe('ATTACHMENT_TAMPERED');
  });

  it('a blob cut short, even inside the IV: ATTACHMENT_TAMPERED at finish', () => {
    const blob = blobOf(randomBytes(100));
    for (const keep of [0, 7, 16, 48, blob.length - 1]) {
      const opener = new BlobOpener(100, KEY);
      opener.update(blob.subarray(0, keep));
      expect(thrownCode(() => opener.finish())).toBe('ATTACHMENT_TAMPERED');
    }
  });

  it('non-zero padding after the plaintext: ATTACHMENT_TAMPERED', () => {
    expect(paddedSize(600)).toBeGreaterThan(600);
    const blob = blobOf(randomBytes(600), 0x01);
    expect(thrownCode(() => open(blob, 600, 1000))).toBe('ATTACHMENT_TAMPERED');
    // The same blob with zeros opens: the padding alone made the difference.
    expect(open(blobOf(randomBytes(600)), 600, 1000).length).toBe(600);
  });

  it('a bad CBC padding (a flipped byte in the last ciphertext block): ATTACHMENT_TAMPERED', () => {
    const blob = blobOf(randomBytes(541));
    // The block before the last one: flipping it flips the last block's PKCS#7 bytes.
    blob[blob.length - 32 - 17]! ^= 0x5a;
    expect(thrownCode(() => open(blob, 541, 64))).toBe('ATTACHMENT_TAMPERED');
  });
});
