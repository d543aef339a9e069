import {
  type Cipher,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  type Hmac,
  randomBytes,
} from 'node:crypto';
import { open } from 'node:fs/promises';
import {
  ATTACHMENT_KEY_BYTES,
  ciphertextSize,
  paddedSize,
} from '../../../shared/protocol/attachment.ts';
import { SottoError } from '../errors.ts';
import { type BlobExpectation, IV_BYTES, MAC_BYTES, splitKey, verifyBlob } from './blob-check.ts';
import { FileSink, readChunks } from './file-chunks.ts';

// Signal's AttachmentV2 layout (docs/message-format.md#attachments), used both
// on the wire (a fresh key per attachment) and at rest (a fresh local key per
// stored file): IV ‖ AES-256-CBC(zero-padded plaintext) ‖ HMAC-SHA256(IV ‖ ciphertext),
// and the digest is SHA-256 of that whole blob. Everything streams: memory
// stays flat whatever the file size.

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

/** AttachmentV2 encryption of exactly `size` plaintext bytes, fed in any chunking. */
class Sealer {
  private readonly cipher: Cipher;
  private readonly mac: Hmac;
  private readonly digest = createHash('sha256');
  private length = 0;
  private seen = 0;

  constructor(
    private readonly size: number,
    key: Uint8Array,
    private readonly iv: Uint8Array,
  ) {
    const { aesKey, macKey } = splitKey(key);
    this.cipher = createCipheriv('aes-256-cbc', aesKey, iv);
    this.mac = createHmac('sha256', macKey);
  }

  /** The blob's first bytes (the IV). */
  start(): Buffer {
    this.mac.update(this.iv);
    return this.emit(Buffer.from(this.iv));
  }

  /** The ciphertext of the next plaintext chunk (empty until a whole block is in). */
  update(chunk: Uint8Array): Buffer {
    this.seen += chunk.length;
    if (this.seen > this.size) throw new SottoError('INVALID_INPUT', 'file grew while read');
    return this.body(this.cipher.update(chunk));
  }

  /** The rest of the blob (padding, last block, MAC tag) and what it sealed. */
  finish(): { tail: Buffer[]; sealed: Sealed } {
    if (this.seen !== this.size) throw new SottoError('INVALID_INPUT', 'file shrank while read');
    const tail: Buffer[] = [];
    // Zero padding to the size bucket hides the exact size from the relay.
    for (let left = paddedSize(this.size) - this.size; left > 0; left -= ZEROS.length)
      tail.push(this.body(this.cipher.update(ZEROS.subarray(0, Math.min(left, ZEROS.length)))));
    tail.push(this.body(this.cipher.final()));
    tail.push(this.emit(this.mac.digest()));
    return { tail, sealed: { digest: this.digest.digest(), length: this.length } };
  }

  private body(bytes: Buffer): Buffer {
    this.mac.update(bytes);
    return this.emit(bytes);
  }

  private emit(bytes: Buffer): Buffer {
    this.digest.update(bytes);
    this.length += bytes.length;
    return bytes;
  }
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
  const sealer = new Sealer(size, key, iv);
  yield sealer.start();
  for await (const chunk of plain) {
    const out = sealer.update(chunk);
    if (out.length > 0) yield out;
  }
  const { tail, sealed } = sealer.finish();
  for (const out of tail) if (out.length > 0) yield out;
  done(sealed);
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
  const [sealed] = await encryptToFiles(plain, size, [{ key, path }]);
  return sealed!;
}

/**
 * encryptToFile under several keys at once from one read of `plain` (the
 * sender's transport copy and stored copy): each file fsynced before it resolves.
 */
export async function encryptToFiles(
  plain: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  targets: readonly { key: Uint8Array; path: string }[],
): Promise<Sealed[]> {
  const sinks: FileSink[] = [];
  try {
    for (const target of targets) sinks.push(await FileSink.open(target.path, 'w'));
    const sealers = targets.map((t) => new Sealer(size, t.key, randomBytes(IV_BYTES)));
    const write = (outs: readonly Buffer[]) =>
      Promise.all(outs.map((out, i) => sinks[i]!.write(out)));
    await write(sealers.map((s) => s.start()));
    for await (const chunk of plain) await write(sealers.map((s) => s.update(chunk)));
    const finished = sealers.map((s) => s.finish());
    for (let i = 0; i < finished.length; i++)
      for (const out of finished[i]!.tail) await sinks[i]!.write(out);
    await Promise.all(sinks.splice(0).map((sink) => sink.close(true)));
    const sealed = finished.map((f) => f.sealed);
    if (sealed.some((s) => s.length !== ciphertextSize(size)))
      throw new SottoError('INTERNAL', 'blob size');
    return sealed;
  } finally {
    await Promise.all(sinks.map((sink) => sink.abandon()));
  }
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
  for await (const chunk of readChunks(path, IV_BYTES, length - MAC_BYTES)) {
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
export async function* openBlob(path: string, expected: BlobExpectation): AsyncGenerator<Buffer> {
  await verifyBlob(path, expected);
  yield* decryptChunks(path, expected.size, expected.key);
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
