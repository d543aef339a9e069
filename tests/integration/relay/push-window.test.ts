import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import { PushWindow } from '../../../relay/delivery.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
import type { Mailbox } from '../../../relay/storage.ts';
import { relayDataDir } from '../../support/relay-client.ts';

// When a push window reads its mailbox (relay/delivery.ts): after a wakeup,
// and after an ack only if its last read may have left envelopes behind. An
// ack of a window that had pushed everything used to cost one empty read per
// message (docs/relay-operations.md#postgresql-schema). Real SQLite storage,
// its listQueued counted; the pushed frames are read as a client would.

const LIMITS = { mailboxQuota: 100_000, maxStorageBytes: 1e9 };

let storage: SqliteRelayStorage;
let reads: number;
let failNextRead: boolean;
let pushed: string[];
let mailbox: Mailbox;
let window: PushWindow;

beforeEach(() => {
  storage = SqliteRelayStorage.open(relayDataDir());
  reads = 0;
  failNextRead = false;
  const read = storage.listQueued.bind(storage);
  storage.listQueued = async (...args) => {
    reads += 1;
    if (failNextRead) {
      failNextRead = false;
      throw new Error('storage unavailable');
    }
    return await read(...args);
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

async function queue(count: number): Promise<void> {
  await storage.storeEnvelopes(
    Array.from({ length: count }, () => ({
      clientMessageId: randomUUID(),
      to: mailbox,
      body: randomBytes(20),
      receivedAt: 1,
    })),
    LIMITS,
  );
}

describe('push window reads', () => {
  it('an ack of a window that pushed everything queued reads nothing; the next wakeup does', async () => {
    await queue(3);
    window.start();
    await window.idle();
    expect(pushed).toHaveLength(3);
    const afterPush = reads;
    window.acked(pushed);
    await window.idle();
    expect(reads).toBe(afterPush);
    await queue(1);
    window.fill();
    await window.idle();
    expect(pushed).toHaveLength(4);
    expect(reads).toBe(afterPush + 1);
  });

  it('a full window reads again on the ack that frees room, and only until it has caught up', async () => {
    const extra = 5;
    await queue(RELAY_LIMITS.pushWindow + extra);
    window.start();
    await window.idle();
    expect(pushed).toHaveLength(RELAY_LIMITS.pushWindow);
    // Wakeups while full read nothing: there is no room to push into.
    const full = reads;
    window.fill();
    await window.idle();
    expect(reads).toBe(full);
    window.acked(pushed.slice(0, 10));
    await window.idle();
    expect(pushed).toHaveLength(RELAY_LIMITS.pushWindow + extra);
    expect(new Set(pushed).size).toBe(pushed.length);
    const caughtUp = reads;
    window.acked(pushed.slice(10, 20));
    await window.idle();
    expect(reads).toBe(caughtUp);
  });

  it('after a failed read, the next ack reads again and pushes what was queued', async () => {
    await queue(2);
    failNextRead = true;
    window.start();
    await window.idle();
    expect(pushed).toHaveLength(0);
    window.acked([]);
    await window.idle();
    expect(pushed).toHaveLength(2);
  });

  it('a wakeup that comes as a read round ends, before the window knows it ended, still gets its read', async () => {
    await queue(2);
    // The first read sees only the first envelope (the second "is stored" just after it).
    const read = storage.listQueued.bind(storage);
    let firstRead = true;
    storage.listQueued = async (box, after, max) => {
      const envelopes = await read(box, after, max);
      if (!firstRead) return envelopes;
      firstRead = false;
      return envelopes.slice(0, 1);
    };
    // Its wakeup lands in the microtask after the round's last frame: the round's
    // loop has already decided it is done, but the window still counts it as running.
    let woken = false;
    window = new PushWindow(storage, mailbox, (text) => {
      const frame = JSON.parse(text) as { envelopes: { id: string }[] };
      pushed.push(...frame.envelopes.map((e) => e.id));
      if (!woken) {
        woken = true;
        queueMicrotask(() => window.arrived());
      }
      return true;
    });
    window.start();
    await window.idle();
    // Once lost, only another arrival, an ack or the slow poll pushed it (seconds later).
    expect(pushed).toHaveLength(2);
  });
});
