import {
  type Cipher,
  createCipheriv,
  createHash,
  createHmac,
  type Hmac,
  randomBytes,
} from 'node:crypto';
import {
  ATTACHMENT_KEY_BYTES,
  ciphertextSize,
  paddedSize,
} from '../../../shared/protocol/attachment.ts';
import { SottoError } from '../errors.ts';
import { type BlobExpectation, IV_BYTES, splitKey, verifyBlob } from './blob-check.ts';
import { BlobOpener } from './blob-opener.ts';
import { FileSink, readChunks } from './file-chunks.ts';

// Signal's AttachmentV2 layout (docs/message-format.md#attachments), used on
// the wire (a fresh key per attachment) and by stored copies written before
// the chunked at-rest format (at-rest.ts, migration 0015): IV ‖ AES-256-CBC(zero-padded plaintext) ‖ HMAC-SHA256(IV ‖ ciphertext),
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

const IV_INFO = 'sotto attachment iv v1';

/**
 * The IV a sender uses with `key`: HMAC-SHA256(MAC key, "sotto attachment iv v1")
 * cut to 16 bytes. Unpredictable without the key, and one key encrypts one
 * file only; being fixed by the key, the blob's bytes follow from (key,
 * plaintext), so a resumed upload re-derives them from the stored copy
 * (blob-source.ts) instead of keeping a ciphertext temp file. Receivers take
 * the IV from the blob and need not know this.
 */
export function transportIv(key: Uint8Array): Buffer {
  const { macKey } = splitKey(key);
  return createHmac('sha256', macKey).update(IV_INFO).digest().subarray(0, IV_BYTES);
}

/** An encryption fed plaintext in any chunking: what sealToFiles drives. */
export interface StreamSealer {
  /** The output the next plaintext bytes complete (possibly empty). */
  update(chunk: Uint8Array): Buffer;
  /** The rest of the output, once every plaintext byte was fed. */
  finish(): Buffer;
}

/** AttachmentV2 encryption of exactly `size` plaintext bytes, fed in any chunking. */
export class BlobSealer implements StreamSealer {
  private readonly cipher: Cipher;
  private readonly mac: Hmac;
  private readonly digest = createHash('sha256');
  private length = 0;
  private seen = 0;
  private started = false;
  private result: Sealed | undefined;

  constructor(
    private readonly size: number,
    key: Uint8Array,
    private readonly iv: Uint8Array = transportIv(key),
  ) {
    const { aesKey, macKey } = splitKey(key);
    this.cipher = createCipheriv('aes-256-cbc', aesKey, iv);
    this.mac = createHmac('sha256', macKey);
  }

  /** What the blob sealed (after finish). */
  get sealed(): Sealed {
    if (!this.result) throw new SottoError('INTERNAL', 'blob not finished');
    return this.result;
  }

  /** The ciphertext of the next plaintext chunk, the IV first (empty until a whole block is in). */
  update(chunk: Uint8Array): Buffer {
    this.seen += chunk.length;
    if (this.seen > this.size) throw new SottoError('INVALID_INPUT', 'file grew while read');
    // The IV goes first into the MAC and the digest, as on the wire.
    const head = this.started ? undefined : this.start();
    const body = this.body(this.cipher.update(chunk));
    return head ? Buffer.concat([head, body]) : body;
  }

  /** The rest of the blob (IV if nothing came yet, padding, last block, MAC tag). */
  finish(): Buffer {
    if (this.seen !== this.size) throw new SottoError('INVALID_INPUT', 'file shrank while read');
    const tail: Buffer[] = this.started ? [] : [this.start()];
    // Zero padding to the size bucket hides the exact size from the relay.
    for (let left = paddedSize(this.size) - this.size; left > 0; left -= ZEROS.length)
      tail.push(this.body(this.cipher.update(ZEROS.subarray(0, Math.min(left, ZEROS.length)))));
    tail.push(this.body(this.cipher.final()));
    tail.push(this.emit(this.mac.digest()));
    this.result = { digest: this.digest.digest(), length: this.length };
    return Buffer.concat(tail);
  }

  private start(): Buffer {
    this.started = true;
    this.mac.update(this.iv);
    return this.emit(Buffer.from(this.iv));
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
  iv: Uint8Array = transportIv(key),
): AsyncGenerator<Buffer> {
  const sealer = new BlobSealer(size, key, iv);
  for await (const chunk of plain) {
    const out = sealer.update(chunk);
    if (out.length > 0) yield out;
  }
  const tail = sealer.finish();
  if (tail.length > 0) yield tail;
  done(sealer.sealed);
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
 * encryptToFile under several keys at once from one read of `plain`: each
 * file fsynced before it resolves.
 */
export async function encryptToFiles(
  plain: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  targets: readonly { key: Uint8Array; path: string }[],
): Promise<Sealed[]> {
  const sealers = targets.map((t) => new BlobSealer(size, t.key));
  await sealToFiles(
    plain,
    targets.map((t, i) => ({ sealer: sealers[i]!, path: t.path })),
  );
  const sealed = sealers.map((s) => s.sealed);
  if (sealed.some((s) => s.length !== ciphertextSize(size)))
    throw new SottoError('INTERNAL', 'blob size');
  return sealed;
}

/**
 * One output of sealToFiles: its encryption and where its bytes go, a new
 * file or `push` (the upload that follows the seal: resolves when it may take
 * more), or nowhere (only the sealer's digest is wanted).
 */
export type SealTarget =
  | { readonly sealer: StreamSealer; readonly path: string }
  | { readonly sealer: StreamSealer; readonly push?: (bytes: Buffer) => Promise<void> };

/**
 * Feeds one read of `plain` to several encryptions (the sender's stored copy
 * and its transport blob), every file written fsynced before it resolves.
 * The caller deletes the files of a failure.
 */
export async function sealToFiles(
  plain: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  targets: readonly SealTarget[],
): Promise<void> {
  const sinks: FileSink[] = [];
  try {
    const writers: ((bytes: Buffer) => Promise<void>)[] = [];
    for (const target of targets) {
      if ('path' in target) {
        const sink = await FileSink.open(target.path, 'w');
        sinks.push(sink);
        writers.push((bytes) => sink.write(bytes));
      } else writers.push(target.push ?? (() => Promise.resolve()));
    }
    const write = (outs: readonly Buffer[]) => Promise.all(outs.map((out, i) => writers[i]!(out)));
    for await (const chunk of plain) await write(targets.map((t) => t.sealer.update(chunk)));
    await write(targets.map((t) => t.sealer.finish()));
    await Promise.all(sinks.splice(0).map((sink) => sink.close(true)));
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
  const opener = new BlobOpener(size, key);
  for await (const chunk of readChunks(path, 0, ciphertextSize(size))) {
    const out = opener.update(chunk);
    if (out.length > 0) yield out;
  }
  const last = opener.finish();
  if (last.length > 0) yield last;
}

/** Verifies then decrypts the blob at `path` into chunks (verifyBlob, then decryptChunks). */
export async function* openBlob(path: string, expected: BlobExpectation): AsyncGenerator<Buffer> {
  await verifyBlob(path, expected);
  yield* decryptChunks(path, expected.size, expected.key);
}
