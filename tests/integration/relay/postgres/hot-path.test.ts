import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { Mailbox } from '../../../../relay/storage.ts';
import { LIMITS, box, counters, envelope, idOf, withDatabase } from './hot-path-fixtures.ts';

// The one-statement store batch and ack (since migration 5 the storage calls
// relay_store_checked and relay_ack_batch; relay_store_batch and relay_ack of
// migration 4 are tested directly in batched.test.ts:
// docs/relay-operations.md#postgresql-schema) against a real server: the
// counters the quota and the storage budget read stay exact when stores and
// acks race, and hostile acks and batches change nothing they must not.

describe('PostgreSQL hot path: one statement per store batch and per ack', () => {
  withDatabase(
    'stores and acks racing on one pool keep every counter exact and each mailbox gapless in order',
    async (storage, admin) => {
      const boxes = Array.from({ length: 6 }, box);
      const acking = async (mailbox: Mailbox) => {
        let acked = 0;
        for (let round = 0; round < 40 && acked < 60; round++) {
          const queued = await storage.listQueued(mailbox, 0, 7);
          if (queued.length === 0) {
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          const result = await storage.deleteAcked(
            mailbox,
            queued.map((e) => e.id),
          );
          expect(result.kind).toBe('deleted');
          acked += queued.length;
        }
      };
      // 20 turns of 18 envelopes (batched per turn) while every mailbox is acked as it fills.
      const storing = (async () => {
        for (let turn = 0; turn < 20; turn++)
          await Promise.all(
            boxes.map((to, i) =>
              storage.storeEnvelopes(
                [envelope(to, 10 + i), envelope(to, 200), envelope(to, 1 + turn)],
                LIMITS,
              ),
            ),
          );
      })();
      await Promise.all([storing, ...boxes.map(acking)]);
      const after = await counters(admin);
      expect(after.wrongMailboxes).toBe(0);
      expect(after.usage).toBe(after.held);
      // What is left of each mailbox is still in arrival order with strictly rising seqs.
      for (const mailbox of boxes) {
        const left = await storage.listQueued(mailbox, 0, 1_000);
        const seqs = left.map((e) => e.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(await storage.countQueued(mailbox)).toBe(left.length);
      }
      const { rows } = await admin.query('SELECT max(next_seq)::int AS top FROM mailbox');
      expect((rows[0] as { top: number }).top).toBe(61);
    },
  );

  withDatabase(
    'one batch answers in input order: a duplicate inside the batch, the quota and the storage budget reached mid-batch',
    async (storage, admin) => {
      const [a, b] = [box(), box()];
      const repeated = randomUUID();
      const batch = [
        envelope(a, 100, repeated),
        envelope(b, 100),
        envelope(a, 100),
        envelope(a, 100, repeated),
        envelope(a, 100),
        envelope(b, 300),
        envelope(b, 100),
      ];
      const results = await storage.storeEnvelopes(batch, {
        mailboxQuota: 2,
        maxStorageBytes: 500,
      });
      expect(results.map((r) => r.kind)).toEqual([
        'stored',
        'stored',
        'stored',
        'duplicate',
        'mailbox-full',
        'storage-full',
        'stored',
      ]);
      expect(idOf(results[3])).toBe(idOf(results[0]));
      expect((await storage.listQueued(a, 0, 10)).map((e) => e.id)).toEqual([
        idOf(results[0]),
        idOf(results[2]),
      ]);
      expect(await counters(admin)).toEqual({ usage: 400, held: 400, wrongMailboxes: 0 });
    },
  );

  withDatabase(
    "an ack naming one id of another mailbox deletes nothing, even the acker's own ids, and leaves the counters",
    async (storage, admin) => {
      const [mine, theirs] = [box(), box()];
      const own = await storage.storeEnvelopes([envelope(mine), envelope(mine)], LIMITS);
      const foreign = await storage.storeEnvelopes([envelope(theirs)], LIMITS);
      const before = await counters(admin);
      const result = await storage.deleteAcked(mine, [
        idOf(own[0]),
        idOf(foreign[0]),
        idOf(own[1]),
      ]);
      expect(result).toEqual({ kind: 'forbidden' });
      expect(await storage.countQueued(mine)).toBe(2);
      expect(await storage.countQueued(theirs)).toBe(1);
      expect(await counters(admin)).toEqual(before);
    },
  );

  withDatabase(
    'an ack replayed, of unknown ids, or of 500 ids deletes only what is still there',
    async (storage, admin) => {
      const mailbox = box();
      const stored = await storage.storeEnvelopes([envelope(mailbox), envelope(mailbox)], LIMITS);
      const first = idOf(stored[0]);
      expect(await storage.deleteAcked(mailbox, [first, first])).toEqual({
        kind: 'deleted',
        count: 1,
      });
      // Replayed: nothing left to delete, the counters do not go below the rows.
      expect(await storage.deleteAcked(mailbox, [first])).toEqual({ kind: 'deleted', count: 0 });
      const unknown = Array.from({ length: 499 }, () => randomBytes(16).toString('base64url'));
      expect(await storage.deleteAcked(mailbox, [...unknown, idOf(stored[1])])).toEqual({
        kind: 'deleted',
        count: 1,
      });
      expect(await counters(admin)).toEqual({ usage: 0, held: 0, wrongMailboxes: 0 });
      // An ack for a mailbox that never existed is an empty delete, not an error.
      expect(await storage.deleteAcked(box(), unknown.slice(0, 3))).toEqual({
        kind: 'deleted',
        count: 0,
      });
    },
  );

  withDatabase(
    'an ack racing the TTL sweep over the same envelopes never deadlocks and each removal counts once',
    async (storage, admin) => {
      for (let round = 0; round < 10; round++) {
        const mailboxes = [box(), box()];
        const stored = await storage.storeEnvelopes(
          Array.from({ length: 40 }, (_, i) => envelope(mailboxes[i % 2]!)),
          LIMITS,
        );
        const ids = stored.map(idOf);
        const [expired, ...acks] = await Promise.all([
          storage.expireBefore(2, 40),
          storage.deleteAcked(mailboxes[0]!, ids.filter((_, i) => i % 2 === 0).reverse()),
          storage.deleteAcked(
            mailboxes[1]!,
            ids.filter((_, i) => i % 2 === 1),
          ),
        ]);
        const acked = acks.reduce((sum, a) => sum + (a.kind === 'deleted' ? a.count : NaN), 0);
        expect(expired + acked).toBe(40);
        expect(await counters(admin)).toEqual({ usage: 0, held: 0, wrongMailboxes: 0 });
      }
    },
  );

  withDatabase(
    "a store by the previous release's relay_store and the new functions share the counters",
    async (storage, admin) => {
      const mailbox = box();
      await storage.storeEnvelopes([envelope(mailbox, 70)], LIMITS);
      // A node of the previous release during a rolling upgrade: mailbox row, relay_store, a stripe.
      await admin.query('BEGIN');
      await admin.query('SELECT * FROM relay_store($1, $2, $3, $4, $5, 1000, 1000000000, 0, $6)', [
        mailbox.accountId,
        1,
        randomUUID(),
        randomBytes(30),
        1,
        'old-release-id',
      ]);
      await admin.query('UPDATE relay_usage SET bytes = bytes + 30 WHERE stripe = 3');
      await admin.query('COMMIT');
      const queued = await storage.listQueued(mailbox, 0, 10);
      expect(queued.map((e) => e.seq)).toEqual([1, 2]);
      expect(await storage.deleteAcked(mailbox, ['old-release-id'])).toEqual({
        kind: 'deleted',
        count: 1,
      });
      expect(await counters(admin)).toEqual({ usage: 70, held: 70, wrongMailboxes: 0 });
    },
  );
});
