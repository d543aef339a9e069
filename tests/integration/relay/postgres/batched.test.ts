import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { describe, expect } from 'vitest';
import { postgresMailboxes } from '../../../../relay/postgres/mailboxes.ts';
import type { Mailbox, NewEnvelope } from '../../../../relay/storage.ts';
import { LIMITS, box, counters, envelope, idOf, withDatabase } from './hot-path-fixtures.ts';

// Migration 5 (relay/postgres/batch-migration.ts) against a real server: the
// acks of several connections in one relay_ack_batch call, each judged alone;
// the delivery-token check inside the store batch; the push reads of a turn
// in one statement. Hostile members of a batch change nothing for the others.

const hash = (token: Buffer): Buffer => createHash('sha256').update(token).digest();

/** An account row as a login and token.set leave it: a delivery token, optionally moved. */
async function account(admin: pg.Client, mailbox: Mailbox, moved = false): Promise<Buffer> {
  const token = randomBytes(32);
  await admin.query(
    'INSERT INTO account (account_id, identity_key, bound_at, token_hash, moved_at) VALUES ($1, $2, 1, $3, $4)',
    [mailbox.accountId, randomBytes(33), hash(token), moved ? 5 : null],
  );
  return hash(token);
}

const checked = (to: Mailbox, tokenHash: Uint8Array, clientMessageId: string = randomUUID()) =>
  ({ ...envelope(to, 40, clientMessageId), tokenHash }) satisfies NewEnvelope;

describe('PostgreSQL batches: acks of many connections, token checks inside the store, push reads', () => {
  withDatabase(
    "one batched ack naming another mailbox's id is refused alone; the others in its call delete theirs",
    async (storage, admin) => {
      const [alice, bob, carol] = [box(), box(), box()];
      const stored = await storage.storeEnvelopes(
        [envelope(alice), envelope(alice), envelope(bob), envelope(carol)],
        LIMITS,
      );
      const [a1, a2, b1, c1] = stored.map(idOf);
      // Issued in one turn: one relay_ack_batch call, three answers.
      const answers = await Promise.all([
        storage.deleteAcked(alice, [a1!]),
        storage.deleteAcked(bob, [b1!, a2!]), // bob turned hostile: alice's id
        storage.deleteAcked(carol, [c1!]),
      ]);
      expect(answers).toEqual([
        { kind: 'deleted', count: 1 },
        { kind: 'forbidden' },
        { kind: 'deleted', count: 1 },
      ]);
      // Bob's own envelope stays too (a refused ack deletes nothing), and so does a2.
      expect(await storage.countQueued(alice)).toBe(1);
      expect(await storage.countQueued(bob)).toBe(1);
      expect(await storage.countQueued(carol)).toBe(0);
      expect((await counters(admin)).wrongMailboxes).toBe(0);
      expect((await counters(admin)).usage).toBe(100);
    },
  );

  withDatabase(
    'replayed, unknown and shared ids in one call: each envelope removed and counted once',
    async (storage, admin) => {
      const [alice, bob] = [box(), box()];
      const ids = (
        await storage.storeEnvelopes([envelope(alice), envelope(alice), envelope(bob)], LIMITS)
      ).map(idOf);
      const unknown = randomBytes(16).toString('base64url');
      const answers = await postgresMailboxes.deleteAckedBatch(admin, [
        // Two connections of alice's device ack the same envelope.
        { mailbox: alice, envelopeIds: [ids[0]!, ids[0]!] },
        { mailbox: alice, envelopeIds: [ids[0]!, ids[1]!, unknown] },
        // A stranger's ack of ids that exist nowhere deletes nothing and is no error.
        { mailbox: box(), envelopeIds: [unknown] },
        { mailbox: bob, envelopeIds: [] },
      ]);
      expect(answers).toEqual([
        { kind: 'deleted', count: 1 },
        { kind: 'deleted', count: 1 },
        { kind: 'deleted', count: 0 },
        { kind: 'deleted', count: 0 },
      ]);
      // Replayed whole: nothing left, counters do not go below the rows.
      const replay = await postgresMailboxes.deleteAckedBatch(admin, [
        { mailbox: alice, envelopeIds: [ids[0]!, ids[1]!] },
      ]);
      expect(replay).toEqual([{ kind: 'deleted', count: 0 }]);
      expect(await counters(admin)).toEqual({ usage: 50, held: 50, wrongMailboxes: 0 });
      expect(await postgresMailboxes.deleteAckedBatch(admin, [])).toEqual([]);
    },
  );

  withDatabase(
    'stores and batched acks of many connections racing: counters exact, every mailbox gapless',
    async (storage, admin) => {
      const boxes = Array.from({ length: 8 }, box);
      const seen = new Map<string, number[]>();
      const consume = async (mailbox: Mailbox) => {
        let cursor = 0;
        let acked = 0;
        const deadline = Date.now() + 60_000;
        while (acked < 50) {
          if (Date.now() > deadline) throw new Error('the consumer stalled');
          const queued = await storage.listQueued(mailbox, cursor, 9);
          if (queued.length === 0) {
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          cursor = queued[queued.length - 1]!.seq;
          const seqs = seen.get(mailbox.accountId) ?? [];
          seen.set(mailbox.accountId, [...seqs, ...queued.map((e) => e.seq)]);
          const answer = await storage.deleteAcked(
            mailbox,
            queued.map((e) => e.id),
          );
          expect(answer).toEqual({ kind: 'deleted', count: queued.length });
          acked += queued.length;
        }
      };
      const produce = async () => {
        for (let i = 0; i < 50; i++)
          await storage.storeEnvelopes(
            boxes.map((b) => envelope(b, 10 + i)),
            LIMITS,
          );
      };
      await Promise.all([produce(), ...boxes.map(consume)]);
      for (const b of boxes)
        expect(seen.get(b.accountId)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await counters(admin)).toEqual({ usage: 0, held: 0, wrongMailboxes: 0 });
    },
  );

  withDatabase(
    'a store batch where one recipient’s token is wrong, one moved and one unknown: only those are refused',
    async (storage, admin) => {
      const [alice, bob, carol, nobody] = [box(), box(), box(), box()];
      const aliceHash = await account(admin, alice);
      await account(admin, bob);
      const carolHash = await account(admin, carol, true);
      const queued = envelope(bob);
      await storage.storeEnvelopes([queued], LIMITS);
      const results = await storage.storeEnvelopes(
        [
          checked(alice, aliceHash),
          // Bob's queued clientMessageId under a wrong token: refused, not told it is a duplicate.
          checked(bob, aliceHash, queued.clientMessageId),
          checked(carol, carolHash),
          checked(nobody, aliceHash),
          checked(alice, randomBytes(32)),
          checked(alice, aliceHash),
        ],
        LIMITS,
      );
      expect(results.map((r) => r.kind)).toEqual([
        'stored',
        'bad-token',
        'moved',
        'bad-token',
        'bad-token',
        'stored',
      ]);
      expect(await storage.countQueued(alice)).toBe(2);
      expect(await storage.countQueued(bob)).toBe(1);
      expect(await storage.countQueued(carol)).toBe(0);
      expect(await counters(admin)).toEqual({ usage: 130, held: 130, wrongMailboxes: 0 });
      // The seq stays gapless past the refusals.
      expect((await storage.listQueued(alice, 0, 10)).map((e) => e.seq)).toEqual([1, 2]);
    },
  );

  withDatabase(
    'a token changed by another node after this one checked it refuses the store',
    async (storage, admin) => {
      const alice = box();
      const old = await account(admin, alice);
      await admin.query('UPDATE account SET token_hash = $2 WHERE account_id = $1', [
        alice.accountId,
        randomBytes(32),
      ]);
      expect(await storage.storeEnvelopes([checked(alice, old)], LIMITS)).toEqual([
        { kind: 'bad-token' },
      ]);
      await admin.query('UPDATE account SET moved_at = 9 WHERE account_id = $1', [alice.accountId]);
      const { rows } = await admin.query('SELECT token_hash FROM account WHERE account_id = $1', [
        alice.accountId,
      ]);
      const current = (rows[0] as { token_hash: Buffer }).token_hash;
      expect(await storage.storeEnvelopes([checked(alice, current)], LIMITS)).toEqual([
        { kind: 'moved' },
      ]);
      expect(await counters(admin)).toEqual({ usage: 0, held: 0, wrongMailboxes: 0 });
    },
  );

  withDatabase(
    'push reads of one turn in one statement: each read gets its own mailbox after its own cursor',
    async (storage) => {
      const [alice, bob, carol] = [box(), box(), box()];
      await storage.storeEnvelopes(
        [...Array.from({ length: 5 }, () => envelope(alice)), envelope(bob), envelope(bob)],
        LIMITS,
      );
      const [fromStart, afterTwo, limited, bobs, empty] = await Promise.all([
        storage.listQueued(alice, 0, 10),
        storage.listQueued(alice, 2, 10),
        storage.listQueued(alice, 0, 2),
        storage.listQueued(bob, 1, 10),
        storage.listQueued(carol, 0, 10),
      ]);
      expect(fromStart.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(afterTwo.map((e) => e.seq)).toEqual([3, 4, 5]);
      expect(limited.map((e) => e.seq)).toEqual([1, 2]);
      expect(bobs.map((e) => e.seq)).toEqual([2]);
      expect(empty).toEqual([]);
      // No read sees another mailbox's envelope.
      const aliceIds = new Set(fromStart.map((e) => e.id));
      expect(bobs.some((e) => aliceIds.has(e.id))).toBe(false);
    },
  );

  withDatabase(
    'the functions plan generically only inside their own call: the session keeps its settings',
    async (storage, admin) => {
      const settings =
        "SELECT current_setting('plan_cache_mode') AS plans, current_setting('synchronous_commit') AS sync";
      const before = (await admin.query(settings)).rows;
      expect(before).toMatchObject([{ plans: 'auto' }]);
      await admin.query(
        `SELECT * FROM relay_store_checked($1, $2, $3, $4, $5, $6, $7, 1000, 1000000000, 1)`,
        [[box().accountId], [1], [randomUUID()], [randomBytes(8)], [1], ['x'], [null]],
      );
      await admin.query('SELECT * FROM relay_ack_batch($1, $2, $3, $4, 50)', [
        [box().accountId],
        [1],
        [1],
        ['x'],
      ]);
      expect((await admin.query(settings)).rows).toEqual(before);
      expect(await storage.countQueued(box())).toBe(0);
    },
  );

  withDatabase(
    "the previous release's relay_store_batch and relay_ack still work next to migration 5",
    async (storage, admin) => {
      const mailbox = box();
      const { rows } = await admin.query(
        `SELECT kind, envelope_id FROM relay_store_batch($1, $2, $3, $4, $5, $6, 1000, 1000000000, 2)`,
        [[mailbox.accountId], [1], [randomUUID()], [randomBytes(30)], [1], ['old-node-id']],
      );
      expect(rows).toEqual([{ kind: 'stored', envelope_id: 'old-node-id' }]);
      await storage.storeEnvelopes([envelope(mailbox, 20)], LIMITS);
      const queued = await storage.listQueued(mailbox, 0, 10);
      expect(queued.map((e) => e.seq)).toEqual([1, 2]);
      const acked = await admin.query('SELECT relay_ack($1, 1, $2, 50) AS n', [
        mailbox.accountId,
        [queued[1]!.id],
      ]);
      expect(acked.rows).toEqual([{ n: 1 }]);
      expect(await storage.deleteAcked(mailbox, ['old-node-id'])).toEqual({
        kind: 'deleted',
        count: 1,
      });
      expect(await counters(admin)).toEqual({ usage: 0, held: 0, wrongMailboxes: 0 });
    },
  );
});
