import { createDecipheriv } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { SottoError } from '../errors.ts';
import { openBlob } from './attachment-crypto.ts';
import type { AttachmentRow, LocalFormat } from './attachment-rows.ts';
import { readAtRest } from './at-rest.ts';
import { verifyBlob } from './blob-check.ts';
import { readChunks } from './file-chunks.ts';
import { localPath } from './local-files.ts';

// Reading a stored copy whatever its at-rest format (migration 0015): 1, the
// chunked AES-256-GCM of at-rest.ts, checked chunk by chunk as it is read;
// 0, the AttachmentV2 blob older copies are in, checked as a whole (length,
// digest, MAC) before its first byte.

/** A stored copy and what opens it. */
export interface StoredCopy {
  readonly path: string;
  /** Plaintext size. */
  readonly size: number;
  readonly key: Uint8Array;
  /** The whole-file digest of a format 0 copy; null in format 1. */
  readonly digest: Uint8Array | null;
  readonly format: LocalFormat;
}

/** The stored copy a row names, or undefined when it has none (not downloaded yet, failed). */
export function storedCopyOf(profileDir: string, row: AttachmentRow): StoredCopy | undefined {
  if (!row.localName || !row.localKey) return undefined;
  if (row.localFormat === 0 && !row.localDigest) return undefined;
  return {
    path: localPath(profileDir, row.localName),
    size: row.size,
    key: row.localKey,
    digest: row.localDigest,
    format: row.localFormat,
  };
}

/** The whole plaintext of a stored copy, every byte checked (ATTACHMENT_TAMPERED otherwise, before it is yielded). */
export async function* openStoredCopy(copy: StoredCopy): AsyncGenerator<Buffer> {
  if (copy.format === 1) yield* readAtRest(copy, 0, copy.size, true);
  else yield* openBlob(copy.path, legacyExpectation(copy));
}

/**
 * Plaintext bytes [start, end) of a stored copy: in format 1 only the chunks
 * they lie in are read and checked; in format 0 the whole file is checked
 * first (once per file version), then only the blocks needed are decrypted.
 */
export async function* readStoredRange(
  copy: StoredCopy,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  if (copy.format === 1) {
    yield* readAtRest(copy, start, end);
    return;
  }
  await verifyLegacyOnce(copy);
  yield* legacyRange(copy, start, end);
}

function legacyExpectation(copy: StoredCopy): {
  size: number;
  digest: Uint8Array;
  key: Uint8Array;
} {
  if (!copy.digest) throw new SottoError('INTERNAL', 'format 0 without digest');
  return { size: copy.size, digest: copy.digest, key: copy.key };
}

/** Format 0 files already checked, by path and what stat says of them (a rewritten file is checked again). */
const verified = new Map<string, string>();
const MAX_VERIFIED = 100;

// A video seeks with many range requests, and each would otherwise read the whole file.
async function verifyLegacyOnce(copy: StoredCopy): Promise<void> {
  const info = await stat(copy.path);
  const version = `${info.size}:${info.mtimeMs}:${info.ino}`;
  if (verified.get(copy.path) === version) return;
  await verifyBlob(copy.path, legacyExpectation(copy));
  verified.delete(copy.path);
  if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value ?? '');
  verified.set(copy.path, version);
}

const BLOCK = 16;

/**
 * Bytes [start, end) of a checked format 0 copy without reading what comes
 * before: in CBC each block needs only the ciphertext block before it (the IV
 * for the first), so a seek is one read.
 */
async function* legacyRange(copy: StoredCopy, start: number, end: number): AsyncGenerator<Buffer> {
  if (end <= start) return;
  const first = Math.floor(start / BLOCK);
  const last = Math.floor((end - 1) / BLOCK);
  // Ciphertext block b sits at 16 + 16b; the block before it (or the IV) at 16b.
  const from = first * BLOCK;
  const iv = Buffer.alloc(BLOCK);
  let ivFilled = 0;
  let skip = start - from;
  let left = end - start;
  let decipher: ReturnType<typeof createDecipheriv> | undefined;
  for await (const chunk of readChunks(copy.path, from, BLOCK + (last + 1) * BLOCK)) {
    let bytes = chunk;
    if (!decipher) {
      const take = Math.min(BLOCK - ivFilled, bytes.length);
      bytes.copy(iv, ivFilled, 0, take);
      ivFilled += take;
      bytes = bytes.subarray(take);
      if (ivFilled < BLOCK) continue;
      // The plaintext's zero padding and the PKCS#7 block lie past `end`: never reached here.
      decipher = createDecipheriv('aes-256-cbc', copy.key.subarray(0, 32), iv);
      decipher.setAutoPadding(false);
    }
    let out = decipher.update(bytes);
    if (skip > 0) {
      const cut = Math.min(skip, out.length);
      out = out.subarray(cut);
      skip -= cut;
    }
    if (out.length > left) out = out.subarray(0, left);
    left -= out.length;
    if (out.length > 0) yield out;
    if (left === 0) return;
  }
}
