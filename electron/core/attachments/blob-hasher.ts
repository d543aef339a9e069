import { createHash, createHmac } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { SottoError } from '../errors.ts';

// The two SHA-256 passes over an AttachmentV2 blob (its digest, and the HMAC
// over everything before the tag) cost as much CPU as the AES and the at-rest
// sealing together, and they only need the ciphertext: so for a large blob
// they run on a worker thread beside the main thread's AES (2 cores). Each
// chunk is copied into a buffer handed over to the worker (about 0.1 ms per
// MiB); at most HASH_WINDOW_BYTES are in flight per blob, so memory stays flat
// whatever the size. One worker serves the process, started on first use
// and unref'd (it never keeps the process alive). A small blob is hashed
// inline: handing it over would cost more than it saves.

/** Blobs from this size are hashed on the worker (smaller ones inline). */
export const HASH_WORKER_MIN_BYTES = 4 * 1024 * 1024;
/** Most bytes of one blob handed to the worker and not hashed yet. */
export const HASH_WINDOW_BYTES = 4 * 1024 * 1024;
/** Size of the buffers that carry chunks to the worker (a file read plus a little). */
const BUFFER_BYTES = 1024 * 1024 + 1024;
/** Chunks below this size travel in a buffer of their own size, not kept. */
const SMALL_BYTES = 64 * 1024;
/** Buffers kept for reuse: a window's worth, and a few more for a second blob at once. */
const SPARE_BUFFERS = 8;

/** What hashing a blob produced. */
export interface BlobHashes {
  /** SHA-256 of every byte. */
  readonly digest: Buffer;
  /** HMAC-SHA256 of the bytes before `macEnd`. */
  readonly mac: Buffer;
}

/** The digest and MAC of a blob's bytes fed in order; exactly one of `finish` or `abandon` ends it. */
export interface BlobHasher {
  /** The next bytes (the caller may reuse `chunk` at once); resolves when there is room for more. */
  update(chunk: Uint8Array): Promise<void>;
  /**
   * Both hashes, once every byte was fed; with `appendMac` the MAC is hashed
   * into the digest after them (a sealer's tag, which ends the blob).
   */
  finish(appendMac?: boolean): Promise<BlobHashes>;
  /** Drops the hashing (a failure elsewhere): no result. */
  abandon(): void;
}

/** A hasher for a blob of `length` bytes whose MAC covers [0, macEnd); on the worker from HASH_WORKER_MIN_BYTES unless `worker` says. */
export function blobHasher(
  macKey: Uint8Array,
  macEnd: number,
  length: number,
  worker = length >= HASH_WORKER_MIN_BYTES,
): BlobHasher {
  return worker ? hashers.start(macKey, macEnd) : new InlineHasher(macKey, macEnd);
}

/** The bytes of `chunk` at blob offset `at` that lie before `macEnd`. */
function macPart(chunk: Uint8Array, at: number, macEnd: number): Uint8Array {
  return chunk.subarray(0, Math.max(0, Math.min(chunk.length, macEnd - at)));
}

class InlineHasher implements BlobHasher {
  private readonly digest = createHash('sha256');
  private readonly mac;
  private seen = 0;

  constructor(
    macKey: Uint8Array,
    private readonly macEnd: number,
  ) {
    this.mac = createHmac('sha256', macKey);
  }

  update(chunk: Uint8Array): Promise<void> {
    this.digest.update(chunk);
    this.mac.update(macPart(chunk, this.seen, this.macEnd));
    this.seen += chunk.length;
    return Promise.resolve();
  }

  finish(appendMac = false): Promise<BlobHashes> {
    const mac = this.mac.digest();
    if (appendMac) this.digest.update(mac);
    return Promise.resolve({ digest: this.digest.digest(), mac });
  }

  abandon(): void {}
}

// The worker's side, as source (eval'd: no separate file for the bundlers to find).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash, createHmac } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'start') {
    jobs.set(m.id, { digest: createHash('sha256'), mac: createHmac('sha256', m.macKey), seen: 0, macEnd: m.macEnd });
  } else if (m.op === 'data') {
    const job = jobs.get(m.id);
    const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
    job.digest.update(bytes);
    job.mac.update(bytes.subarray(0, Math.max(0, Math.min(bytes.length, job.macEnd - job.seen))));
    job.seen += bytes.length;
    // The buffer goes back to be filled again: no garbage per chunk on either side.
    parentPort.postMessage({ id: m.id, op: 'ack', bytes: bytes.length, buffer: m.bytes.buffer }, [m.bytes.buffer]);
  } else if (m.op === 'end') {
    const job = jobs.get(m.id);
    jobs.delete(m.id);
    const mac = job.mac.digest();
    if (m.appendMac) job.digest.update(mac);
    parentPort.postMessage({ id: m.id, op: 'done', digest: job.digest.digest(), mac });
  } else {
    jobs.delete(m.id);
  }
});
`;

type Reply =
  | { id: number; op: 'ack'; bytes: number; buffer: ArrayBuffer }
  | { id: number; op: 'done'; digest: Uint8Array; mac: Uint8Array };

/** One blob's hashing on the worker, as the main thread tracks it. */
interface Job {
  inFlight: number;
  room?: () => void;
  done?: { resolve: (h: BlobHashes) => void; reject: (e: SottoError) => void };
  failed?: SottoError;
}

/** Throws what stopped the job's worker, if it stopped. */
function rethrow(job: Job): void {
  if (job.failed) throw job.failed;
}

class WorkerHashers {
  private worker: Worker | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private waiting = 0;
  /** Buffers back from the worker, to carry the next chunks. */
  private readonly spare: ArrayBuffer[] = [];

  start(macKey: Uint8Array, macEnd: number): BlobHasher {
    const worker = this.running();
    const id = this.nextId++;
    const job: Job = { inFlight: 0 };
    this.jobs.set(id, job);
    worker.postMessage({ id, op: 'start', macKey: new Uint8Array(macKey), macEnd });
    const end = () => this.jobs.delete(id);
    return {
      update: async (chunk) => {
        rethrow(job);
        const { view, buffer } = this.carrier(chunk);
        job.inFlight += chunk.length;
        worker.postMessage({ id, op: 'data', bytes: view }, [buffer]);
        while (job.inFlight > HASH_WINDOW_BYTES && !job.failed)
          await this.awaiting(new Promise<void>((resolve) => (job.room = resolve)));
        rethrow(job);
      },
      finish: (appendMac = false) =>
        this.awaiting(
          new Promise<BlobHashes>((resolve, reject) => {
            if (job.failed) {
              end();
              reject(job.failed);
              return;
            }
            job.done = {
              resolve: (hashes) => {
                end();
                resolve(hashes);
              },
              reject: (error: SottoError) => {
                end();
                reject(error);
              },
            };
            worker.postMessage({ id, op: 'end', appendMac });
          }),
        ),
      abandon: () => {
        if (!this.jobs.has(id)) return;
        worker.postMessage({ id, op: 'drop' });
        end();
      },
    };
  }

  /**
   * `answer`, with the worker keeping the process alive until it comes: the
   * worker is unref'd otherwise, so a blob whose hashing was left unfinished
   * never keeps the process from exiting.
   */
  private async awaiting<T>(answer: Promise<T>): Promise<T> {
    const worker = this.worker;
    if (this.waiting++ === 0) worker?.ref();
    try {
      return await answer;
    } finally {
      if (--this.waiting === 0) worker?.unref();
    }
  }

  /** `chunk` copied into a spare buffer if one is large enough, else into a new one (kept for reuse if large). */
  private carrier(chunk: Uint8Array): { view: Uint8Array; buffer: ArrayBuffer } {
    const at = this.spare.findIndex((b) => b.byteLength >= chunk.length);
    const buffer =
      at >= 0
        ? this.spare.splice(at, 1)[0]!
        : new ArrayBuffer(
            chunk.length < SMALL_BYTES ? chunk.length : Math.max(chunk.length, BUFFER_BYTES),
          );
    const view = new Uint8Array(buffer, 0, chunk.length);
    view.set(chunk);
    return { view, buffer };
  }

  private running(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (reply: Reply) => this.reply(reply));
    // A worker that died fails the blobs it was hashing; the next blob starts another.
    const fail = () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const error = new SottoError('INTERNAL', 'hash worker stopped');
      for (const job of this.jobs.values()) {
        job.failed = error;
        job.room?.();
        job.done?.reject(error);
      }
      this.jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.worker = worker;
    return worker;
  }

  private reply(reply: Reply): void {
    const job = this.jobs.get(reply.id);
    if (!job) return;
    if (reply.op === 'ack') {
      job.inFlight -= reply.bytes;
      if (this.spare.length < SPARE_BUFFERS && reply.buffer.byteLength >= BUFFER_BYTES)
        this.spare.push(reply.buffer);
      if (job.inFlight <= HASH_WINDOW_BYTES) job.room?.();
      return;
    }
    job.done?.resolve({ digest: Buffer.from(reply.digest), mac: Buffer.from(reply.mac) });
  }
}

const hashers = new WorkerHashers();
