import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { NewerRelayDataError, ProtocolOneDataError } from './sqlite-schema.ts';
import { SqliteRelayStorage } from './sqlite-storage.ts';
import type { RelayStorage } from './storage.ts';

// The relay's SQLite storage in its own thread (worker-storage.ts is the other
// end). SQLite is synchronous and every commit waits for fsync: on the main
// thread that wait stopped every connection's frames, so one flood slowed
// everyone. Here it stops only storage.

/** Why opening failed, as the main thread reports it. */
export type OpenFailure = 'protocol-1' | 'newer' | 'io';

/** Messages the worker posts. */
export type FromStorageWorker =
  | { readonly kind: 'opened'; readonly relayId: string }
  | { readonly kind: 'open-failed'; readonly reason: OpenFailure; readonly code: string }
  | { readonly kind: 'result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: 'result'; readonly id: number; readonly ok: false };

/** The storage methods the worker runs. */
export type StorageMethod = Exclude<keyof RelayStorage, 'relayId'>;

const METHODS = [
  'account',
  'bindIdentityKey',
  'setTokenHash',
  'markMoved',
  'movedAmong',
  'publishKeys',
  'takeBundle',
  'forgetTakenKeys',
  'oneTimeKeyCounts',
  'keyIds',
  'devicesOf',
  'storeEnvelopes',
  'listQueued',
  'deleteAcked',
  'countQueued',
  'expireBefore',
  'createBlob',
  'blob',
  'completeBlob',
  'expiredBlobs',
  'deleteBlobs',
  'close',
] as const satisfies readonly StorageMethod[];

const callSchema = z.object({
  id: z.number().int(),
  method: z.enum(METHODS),
  args: z.array(z.unknown()),
});
const initSchema = z.object({ dataDir: z.string() });

function errorCode(error: unknown): string {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'error';
}

function start(): void {
  const port = parentPort;
  if (port === null) throw new Error('storage-worker.ts runs as a worker thread');
  const post = (message: FromStorageWorker) => port.postMessage(message);
  let storage: SqliteRelayStorage;
  try {
    storage = SqliteRelayStorage.open(initSchema.parse(workerData).dataDir);
  } catch (error) {
    const reason: OpenFailure =
      error instanceof ProtocolOneDataError
        ? 'protocol-1'
        : error instanceof NewerRelayDataError
          ? 'newer'
          : 'io';
    post({ kind: 'open-failed', reason, code: errorCode(error) });
    return;
  }
  post({ kind: 'opened', relayId: storage.relayId });
  // Calls run one at a time in arrival order: the main thread relies on it
  // (a store and the push that follows it).
  let chain = Promise.resolve();
  port.on('message', (raw: unknown) => {
    const { id, method, args } = callSchema.parse(raw);
    chain = chain.then(async () => {
      try {
        const fn: unknown = Reflect.get(storage, method);
        if (typeof fn !== 'function') throw new Error('not a storage method');
        const value: unknown = await Reflect.apply(fn, storage, args);
        post({ kind: 'result', id, ok: true, value });
        if (method === 'close') port.close();
      } catch {
        post({ kind: 'result', id, ok: false });
      }
    });
  });
}

start();
