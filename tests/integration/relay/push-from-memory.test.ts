import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import { PushWindow } from '../../../relay/delivery.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
import type { Mailbox, StoredEnvelope } from '../../../relay/storage.ts';
import { relayDataDir } from '../../support/relay-client.ts';

// A push window given the envelopes a store just committed (relay/delivery.ts
// `arrived`) pushes them without reading when they follow what it pushed, and
// reads otherwise: never a duplicate on one connection, never a gap. Real
// SQLite storage; the envelopes handed over are the rows as stored (read back
// here with the storage's own listQueued, not counted as the window's reads).

const LIMITS = { mailboxQuota: 100_000, maxStorageBytes: 1e9 };

let storage: SqliteRelayStorage;
let rows: (afterSeq: number) => Promise<StoredEnvelope[]>;
let reads: number;
let pushed: string[];
let mailbox: Mailbox;
let window: PushWindow;
let readGate: Promise<void> | undefined;

beforeEach(() => {
  storage = SqliteRelayStorage.open(relayDataDir());
  const read = storage.listQueued.bind(storage);
  rows = (afterSeq) => read(mailbox, afterSeq, 10_000);
  reads = 0;
  readGate = undefined;
  storage.listQueued = async (...args) => {
    reads += 1;
    // Taken before the gate: the read sees the rows as they were when it started.
    const answer = await read(...args);
    await readGate;
    return answer;
  };
  pushed = [];
  mailbox = { accountId: accountIdSchema.parse(randomUUID()), deviceId: 1 };
  window = new PushWindow(storage, mailbox, (text) => {
    const frame = JSON.parse(text) as { envelopes: { id: string }[] };
    pushed.push(...frame.envelopes.map((e) => e.id));
    return true;
  });
});
afterEach(async () => {
  await window.idle();
  await storage.close();
});

/** Stores `count` envelopes and returns them as their rows hold them. */
async function store(count: number): Promise<StoredEnvelope[]> {
  const before = await rows(0);
  const last = before.at(-1)?.seq ?? 0;
  await storage.storeEnvelopes(
    Array.from({ length: count }, () => ({
      clientMessageId: randomUUID(),
      to: mailbox,
      body: randomBytes(20),
      receivedAt: Date.now(),
    })),
    LIMITS,
  );
  return await rows(last);
}

async function started(): Promise<StoredEnvelope[]> {
  const first = await store(1);
  window.start();
  await window.idle();
  expect(pushed).toEqual(first.map((e) => e.id));
  return first;
}

it('a window that pushed something pushes the next envelopes from memory, without a read', async () => {
  const first = await started();
  const readsBefore = reads;
  const next = await store(3);
  window.arrived(next);
  expect(pushed).toEqual([...first, ...next].map((e) => e.id));
  await window.idle();
  expect(reads).toBe(readsBefore);
});

it('a fresh window (nothing pushed yet) reads its first envelope: it cannot know what came before', async () => {
  const queued = await store(2);
  window.start();
  await window.idle();
  const readsBefore = reads;
  await storage.deleteAcked(
    mailbox,
    queued.map((e) => e.id),
  );
  // A window whose first read found envelopes knows its place; one that found nothing reads.
  const fresh = new PushWindow(storage, mailbox, (text) => {
    pushed.push(
      ...(JSON.parse(text) as { envelopes: { id: string }[] }).envelopes.map((e) => e.id),
    );
    return true;
  });
  fresh.start();
  await fresh.idle();
  const next = await store(1);
  fresh.arrived(next);
  await fresh.idle();
  expect(reads).toBe(readsBefore + 2);
  expect(pushed).toEqual([...queued, ...next].map((e) => e.id));
});

it('an envelope after a gap (one the window never saw) makes it read: all pushed once, in order', async () => {
  const first = await started();
  const [skipped, later] = [await store(1), await store(1)];
  window.arrived(later);
  await window.idle();
  expect(pushed).toEqual([...first, ...skipped, ...later].map((e) => e.id));
  // The skipped one arriving late is already pushed: nothing more, no read.
  const readsBefore = reads;
  window.arrived(skipped);
  window.arrived(later);
  await window.idle();
  expect(reads).toBe(readsBefore);
  expect(pushed).toEqual([...first, ...skipped, ...later].map((e) => e.id));
});

it('arrivals during a read in flight fall back to it: no duplicate, no gap', async () => {
  const first = await started();
  let open: () => void = () => undefined;
  readGate = new Promise((resolve) => (open = resolve));
  const a = await store(2);
  window.fill(); // a read starts and holds before answering
  const b = await store(2);
  window.arrived(a); // the read in flight will return these
  window.arrived(b); // stored after the read's snapshot: another round reads them
  expect(pushed).toEqual(first.map((e) => e.id));
  open();
  await window.idle();
  expect(pushed).toEqual([...first, ...a, ...b].map((e) => e.id));
});

it('a pushed-from-memory envelope acked, then redelivered by a wakeup and by a read: pushed once', async () => {
  const first = await started();
  const next = await store(1);
  window.arrived(next);
  await storage.deleteAcked(
    mailbox,
    [...first, ...next].map((e) => e.id),
  );
  window.acked([...first, ...next].map((e) => e.id));
  window.arrived(next);
  window.fill();
  window.newestQueued(next[0]!.seq);
  await window.idle();
  expect(pushed).toEqual([...first, ...next].map((e) => e.id));
  expect(window.pending).toBe(0);
});

it('a full window does not push from memory; the ack that frees room reads the rest', async () => {
  const first = await started();
  const fill = await store(RELAY_LIMITS.pushWindow - 1);
  window.arrived(fill);
  expect(window.pending).toBe(RELAY_LIMITS.pushWindow);
  const over = await store(2);
  window.arrived(over);
  await window.idle();
  expect(pushed).toHaveLength(RELAY_LIMITS.pushWindow);
  window.acked([first[0]!.id, fill[0]!.id]);
  await window.idle();
  expect(pushed).toEqual([...first, ...fill, ...over].map((e) => e.id));
});
