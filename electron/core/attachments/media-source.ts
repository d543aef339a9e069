import { stat } from 'node:fs/promises';
import { createDecipheriv } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { verifyBlob } from './blob-check.ts';
import { attachmentById } from './attachment-rows.ts';
import { localPath } from './local-files.ts';
import type { Profile } from '../profile/profile.ts';

// What main's attachment: scheme needs to serve a stored copy: where it is and
// what opens it. This crosses from the core worker to the main thread (both
// trusted, one process) and never further: the renderer names files by id only.

/** A stored, downloaded attachment as the scheme serves it. */
export interface MediaSource {
  readonly path: string;
  readonly key: Uint8Array;
  readonly digest: Uint8Array;
  /** Plaintext size. */
  readonly size: number;
  /** The label the sender gave (the scheme whitelists it). */
  readonly contentType: string;
}

/** The stored copy of attachment `id`, or undefined when there is none (unknown, not downloaded yet, failed). */
export function mediaSourceOf(profile: Profile, id: number): MediaSource | undefined {
  const row = attachmentById(profile.db, id);
  if (!row?.localName || !row.localKey || !row.localDigest) return undefined;
  return {
    path: localPath(profile.paths.dir, row.localName),
    key: row.localKey,
    digest: row.localDigest,
    size: row.size,
    contentType: row.contentType,
  };
}

const BLOCK = 16;

/**
 * Plaintext bytes [start, end] (inclusive) of a stored copy, decrypted on the
 * fly without reading what comes before: in CBC each block needs only the
 * ciphertext block before it (the IV for the first), so a seek is one read.
 * The caller checked the blob (verifyMediaSource) first.
 */
export async function* decryptRange(
  source: MediaSource,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  if (end < start) return;
  const first = Math.floor(start / BLOCK);
  const last = Math.floor(end / BLOCK);
  // Ciphertext block b sits at 16 + 16b; the block before it (or the IV) at 16b.
  const stream = createReadStream(source.path, {
    start: first * BLOCK,
    end: BLOCK + (last + 1) * BLOCK - 1,
    highWaterMark: 64 * 1024,
  });
  let iv: Buffer | undefined;
  let skip = start - first * BLOCK;
  let left = end - start + 1;
  let decipher: ReturnType<typeof createDecipheriv> | undefined;
  let pending = Buffer.alloc(0);
  for await (const chunk of stream) {
    let bytes = chunk as Buffer;
    if (!decipher) {
      pending = Buffer.concat([pending, bytes]);
      if (pending.length < BLOCK) continue;
      iv = pending.subarray(0, BLOCK);
      bytes = pending.subarray(BLOCK);
      // The plaintext's zero padding and the PKCS#7 block lie past `end`: never reached here.
      decipher = createDecipheriv('aes-256-cbc', source.key.subarray(0, 32), iv);
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
    if (left === 0) break;
  }
  stream.destroy();
}

/** Files already checked, by path and what stat says of them (a rewritten file is checked again). */
const verified = new Map<string, string>();
const MAX_VERIFIED = 100;

/**
 * Checks a stored copy's length, digest and MAC before the scheme serves a
 * byte of it (ATTACHMENT_TAMPERED otherwise), once per file version: a video
 * seeks with many range requests, and each would otherwise read the whole file.
 */
export async function verifyMediaSource(source: MediaSource): Promise<void> {
  const info = await stat(source.path);
  const version = `${info.size}:${info.mtimeMs}:${info.ino}`;
  if (verified.get(source.path) === version) return;
  await verifyBlob(source.path, source);
  verified.delete(source.path);
  if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value ?? '');
  verified.set(source.path, version);
}
