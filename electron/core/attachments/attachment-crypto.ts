import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import {
  ATTACHMENT_KEY_BYTES,
  ciphertextSize,
  paddedSize,
} from '../../../shared/protocol/attachment.ts';
import { SottoError } from '../errors.ts';

// Signal's AttachmentV2 layout (docs/message-format.md#attachments), used both
// on the wire (a fresh key per attachment) and at rest (a fresh local key per
// stored file): IV ‖ AES-256-CBC(zero-padded plaintext) ‖ HMAC-SHA256(IV ‖ ciphertext),
// and the digest is SHA-256 of that whole blob. Everything streams: memory
// stays flat whatever the file size.

const IV_BYTES = 16;
const MAC_BYTES = 32;
const ZEROS = Buffer.alloc(64 * 1024);

/** What encrypting produced: the blob's digest (the key was the caller's). */
export interface Sealed {
  readonly digest: Buffer;
  readonly length: number;
}

/** A fresh 64-byte attachment key (AES key ‖ MAC key). */
export function newAttachmentKey(): Buffer {
  return randomBytes(ATTACHMENT_KEY_BYTES);
}

/**
 * Encrypts exactly `size` plaintext bytes from `plain` into blob chunks;
 * `done` receives the digest at the end. More or fewer bytes than `size` (a
 * file that changed while read) is INVALID_INPUT.
 */
export async function* encryptChunks(
  plain: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  key: Uint8Array,
  done: (sealed: Sealed) => void,
  iv: Uint8Array = randomBytes(IV_BYTES),
): AsyncGenerator<Buffer> {
  const { aesKey, macKey } = splitKey(key);
  const cipher = createCipheriv('aes-256-cbc', aesKey, iv);
  const mac = createHmac('sha256', macKey).update(iv);
  const digest = createHash('sha256').update(iv);
  let length = IV_BYTES;
  const emit = (bytes: Buffer) => {
    mac.update(bytes);
    digest.update(bytes);
    length += bytes.length;
    return bytes;
  };
  yield Buffer.from(iv);
  let seen = 0;
  for await (const chunk of plain) {
    seen += chunk.length;
    if (seen > size) throw new SottoError('INVALID_INPUT', 'file grew while read');
    const out = cipher.update(chunk);
    if (out.length > 0) yield emit(out);
  }
  if (seen !== size) throw new SottoError('INVALID_INPUT', 'file shrank while read');
  // Zero padding to the size bucket hides the exact size from the relay.
  for (let left = paddedSize(size) - size; left > 0; left -= ZEROS.length) {
    const out = cipher.update(ZEROS.subarray(0, Math.min(left, ZEROS.length)));
    if (out.length > 0) yield emit(out);
  }
  yield emit(cipher.final());
  const tag = mac.digest();
  digest.update(tag);
  yield tag;
  done({ digest: digest.digest(), length: length + MAC_BYTES });
}

/**
 * Encrypts `size` bytes from `plain` into a new file at `path` (fsynced before
 * it resolves); returns the digest. The file holds ciphertext only.
 */
export async function encryptToFile(
  plain: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  key: Uint8Array,
  path: string,
): Promise<Sealed> {
  let sealed: Sealed | undefined;
  await pipeline(
    encryptChunks(plain, size, key, (s) => (sealed = s)),
    createWriteStream(path, { mode: 0o600, flush: true }),
  );
  if (!sealed || sealed.length !== ciphertextSize(size))
    throw new SottoError('INTERNAL', 'blob size');
  return sealed;
}

/**
 * Checks the blob at `path` against a pointer's size, digest and key, in
 * that order, before a single plaintext byte is produced: wrong length, digest
 * or MAC (compared in constant time) is ATTACHMENT_TAMPERED.
 */
export async function verifyBlob(
  path: string,
  expected: { size: number; digest: Uint8Array; key: Uint8Array },
): Promise<void> {
  const length = ciphertextSize(expected.size);
  if ((await stat(path)).size !== length) throw new SottoError('ATTACHMENT_TAMPERED', 'length');
  const { macKey } = splitKey(expected.key);
  const digest = createHash('sha256');
  const mac = createHmac('sha256', macKey);
  for await (const chunk of readRange(path, 0, length - MAC_BYTES)) {
    digest.update(chunk);
    mac.update(chunk);
  }
  const tag = await readTail(path, length - MAC_BYTES, MAC_BYTES);
  digest.update(tag);
  if (!sameBytes(digest.digest(), expected.digest))
    throw new SottoError('ATTACHMENT_TAMPERED', 'digest');
  if (!sameBytes(mac.digest(), tag)) throw new SottoError('ATTACHMENT_TAMPERED', 'mac');
}

/**
 * The plaintext of a blob already checked by verifyBlob: decrypted, padding
 * stripped. Padding that is not zero, or a bad CBC padding, is
 * ATTACHMENT_TAMPERED (raised at the end: the consumer must discard what it got).
 */
export async function* decryptChunks(
  path: string,
  size: number,
  key: Uint8Array,
): AsyncGenerator<Buffer> {
  const length = ciphertextSize(size);
  const iv = await readTail(path, 0, IV_BYTES);
  const decipher = createDecipheriv('aes-256-cbc', splitKey(key).aesKey, iv);
  let left = size;
  let nonZero = false;
  const take = function* (out: Buffer): Generator<Buffer> {
    const keep = Math.min(left, out.length);
    if (keep > 0) yield out.subarray(0, keep);
    left -= keep;
    for (let i = keep; i < out.length; i++) if (out[i] !== 0) nonZero = true;
  };
  for await (const chunk of readRange(path, IV_BYTES, length - MAC_BYTES)) {
    yield* take(decipher.update(chunk));
  }
  let last: Buffer;
  try {
    last = decipher.final();
  } catch {
    throw new SottoError('ATTACHMENT_TAMPERED', 'cbc padding');
  }
  yield* take(last);
  if (left !== 0 || nonZero) throw new SottoError('ATTACHMENT_TAMPERED', 'padding');
}

/** Verifies then decrypts the blob at `path` into chunks (verifyBlob, then decryptChunks). */
export async function* openBlob(
  path: string,
  expected: { size: number; digest: Uint8Array; key: Uint8Array },
): AsyncGenerator<Buffer> {
  await verifyBlob(path, expected);
  yield* decryptChunks(path, expected.size, expected.key);
}

function splitKey(key: Uint8Array): { aesKey: Uint8Array; macKey: Uint8Array } {
  if (key.length !== ATTACHMENT_KEY_BYTES) throw new SottoError('INTERNAL', 'attachment key');
  return { aesKey: key.subarray(0, 32), macKey: key.subarray(32) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Bytes [start, end) of a file as a stream (empty when end <= start). */
async function* readRange(path: string, start: number, end: number): AsyncGenerator<Buffer> {
  if (end <= start) return;
  const stream = createReadStream(path, { start, end: end - 1, highWaterMark: 64 * 1024 });
  for await (const chunk of stream) yield chunk as Buffer;
}

async function readTail(path: string, position: number, bytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, position);
    if (bytesRead !== bytes) throw new SottoError('ATTACHMENT_TAMPERED', 'truncated');
    return buffer;
  } finally {
    await handle.close();
  }
}
