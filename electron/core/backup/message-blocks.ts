import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { SottoError } from '../errors.ts';
import { isDamageError } from '../db/sqlite.ts';
import {
  MESSAGE_BLOCK_SQL,
  MESSAGE_RANGE_SQL,
  MESSAGE_SETUP_SQL,
  MESSAGE_SPAN,
  type MessageRange,
} from './message-sql.ts';

// Reads the export's message lines on a second connection in worker threads,
// while the calling thread hashes, seals and writes the previous blocks: the
// two halves of an export cost about the same, and the machines have two cores.
// Memory stays constant: at most PREFETCH blocks (about 700 KB each) are in
// flight, and each arrives as bytes whose memory moves to this thread.
//
// The worker is plain CommonJS (as in db/integrity.ts) so it runs the same
// under vitest, tsx and the bundled app; it gets the binding's resolved path.

/** Blocks requested ahead of the one being written. */
const PREFETCH = 8;
/** Page cache of each read connection (KiB): a forward scan reuses no pages, and 64 MiB per connection would only add RSS. */
const READ_CACHE_KIB = 4096;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const binding = require(workerData.binding);
binding.setLogger(() => {});
let db;
let block;
function fail(error) {
  parentPort.postMessage({ error: { message: String(error && error.message), code: String(error && error.code) } });
}
try {
  db = new binding.default(workerData.path);
  db.exec('PRAGMA cipher_log_level = NONE');
  db.exec('PRAGMA key = "x\\'' + workerData.keyHex + '\\'"');
  db.exec('PRAGMA cache_size = -' + workerData.cacheKiB);
  db.exec('PRAGMA temp_store = MEMORY');
  // One read transaction: every block comes from the same snapshot.
  db.exec('BEGIN');
  db.exec(workerData.setupSql);
  block = db.prepare(workerData.blockSql);
} catch (error) {
  fail(error);
}
parentPort.on('message', (request) => {
  if (request === 'close') {
    if (db) db.close();
    db = undefined;
    parentPort.close();
    return;
  }
  if (!block) return;
  if (request === 'range') {
    try {
      return parentPort.postMessage(db.prepare(workerData.rangeSql).get());
    } catch (error) {
      return fail(error);
    }
  }
  try {
    const row = block.get([request.after, request.to]);
    const bytes = row.block;
    if (!bytes) return parentPort.postMessage({ count: 0 });
    // A buffer that owns its whole ArrayBuffer moves without a copy.
    const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length;
    parentPort.postMessage({ count: row.count, bytes }, own ? [bytes.buffer] : []);
  } catch (error) {
    fail(error);
  }
});
`;

const binding = createRequire(import.meta.url).resolve('@signalapp/sqlcipher');

/** Message lines of one id range: UTF-8 JSON lines joined by newlines (no final one). */
export interface MessageBlock {
  readonly bytes: Uint8Array;
  readonly count: number;
}

interface Reply {
  readonly count?: number;
  readonly maxId?: number;
  readonly bytes?: Uint8Array;
  readonly error?: { readonly message: string; readonly code: string };
}

interface Pending {
  readonly promise: Promise<Reply>;
  resolve(reply: Reply): void;
  reject(error: unknown): void;
}

function pending(): Pending {
  let resolve!: (reply: Reply) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<Reply>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Blocks read ahead may fail before anyone awaits them; the failure is seen when they are.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function readerError(error: Reply['error']): Error {
  const cause = Object.assign(new Error(error?.message ?? 'reader failed'), { code: error?.code });
  return isDamageError(cause) ? new SottoError('DB_CORRUPT', 'backup read', { cause }) : cause;
}

/** One worker thread with its own read connection (one snapshot); answers requests in order. */
class BlockWorker {
  private readonly worker: Worker;
  private readonly waiting: Pending[] = [];
  private readonly exited: Promise<void>;
  private failure: unknown;

  constructor(database: string, key: Uint8Array) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        binding,
        path: database,
        keyHex: Buffer.from(key).toString('hex'),
        cacheKiB: READ_CACHE_KIB,
        setupSql: MESSAGE_SETUP_SQL,
        blockSql: MESSAGE_BLOCK_SQL,
        rangeSql: MESSAGE_RANGE_SQL,
      },
    });
    this.worker.on('message', (reply: Reply) => {
      if (reply.error) return this.fail(readerError(reply.error));
      this.waiting.shift()?.resolve(reply);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.fail(new Error('backup reader exited'));
        resolve();
      }),
    );
  }

  /** The message ids and count in this connection's snapshot. */
  async range(): Promise<MessageRange> {
    const reply = await this.ask('range');
    return { maxId: reply.maxId ?? 0, count: reply.count ?? 0 };
  }

  /** The lines of messages with ids in (after, to]. */
  async read(after: number, to: number): Promise<MessageBlock> {
    const reply = await this.ask({ after, to });
    return { count: reply.count ?? 0, bytes: reply.bytes ?? new Uint8Array(0) };
  }

  private ask(request: unknown): Promise<Reply> {
    const next = pending();
    if (this.failure !== undefined) next.reject(this.failure);
    else {
      this.waiting.push(next);
      this.worker.postMessage(request);
    }
    return next.promise;
  }

  /** Closes the connection and lets the thread end (after the reads already asked for). */
  async close(): Promise<void> {
    if (this.failure === undefined) this.worker.postMessage('close');
    else await this.worker.terminate();
    await this.exited;
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    for (const p of this.waiting.splice(0)) p.reject(this.failure);
  }
}

/**
 * The message lines of a profile, block by block in id order, read ahead on
 * `readers` worker threads (blocks alternate between them). The first
 * reader's snapshot fixes which messages are in (`range`); later snapshots
 * hold all of them too, since messages are only ever added. Close it in all
 * cases: it ends the threads and their connections.
 */
export class MessageBlockReader {
  private readonly ahead: Promise<MessageBlock>[] = [];
  private nextAfter = 0;
  private requested = 0;

  private constructor(
    private readonly workers: readonly BlockWorker[],
    /** Messages in the export: ids (0, maxId], `count` of them. */
    readonly range: MessageRange,
  ) {
    while (this.ahead.length < PREFETCH && this.request()) {
      // fill the read-ahead window
    }
  }

  /** Opens `readers` connections to the database at `database` (keyed with `key`) and starts reading ahead. */
  static async open(database: string, key: Uint8Array, readers = 1): Promise<MessageBlockReader> {
    const workers = Array.from({ length: readers }, () => new BlockWorker(database, key));
    try {
      return new MessageBlockReader(workers, await workers[0]!.range());
    } catch (error) {
      await Promise.all(workers.map((w) => w.close()));
      throw error;
    }
  }

  /** The next block, or undefined after the last. */
  async next(): Promise<MessageBlock | undefined> {
    const block = this.ahead.shift();
    if (!block) return undefined;
    this.request();
    return block;
  }

  /** Ends the worker threads. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }

  private request(): boolean {
    const { maxId } = this.range;
    if (this.nextAfter >= maxId) return false;
    const after = this.nextAfter;
    const to = Math.min(after + MESSAGE_SPAN, maxId);
    this.nextAfter = to;
    const block = this.workers[this.requested++ % this.workers.length]!.read(after, to);
    // Blocks read ahead may fail before anyone awaits them; the failure is seen when they are.
    block.catch(() => undefined);
    this.ahead.push(block);
    return true;
  }
}
