import { describe, expect } from 'vitest';
import { postgresMailboxes } from '../../../../relay/postgres/mailboxes.ts';
import { LIMITS, box, counters, envelope, idOf, withDatabase } from './hot-path-fixtures.ts';

// Migration 11 (relay/postgres/lean-store-migration.ts): relay_store_sequenced
// in three statements per envelope, the quota and the relay-wide budget judged
// in the counters' UPDATE. Where both refuse, the answer is still the quota's;
// the seq each stored envelope is answered with is its row's.

describe('PostgreSQL store of migration 11', () => {
  withDatabase(
    'over both the quota and the storage budget: mailbox-full; over the budget only: storage-full; nothing counted for either',
    async (storage, admin) => {
      const [full, roomy] = [box(), box()];
      await storage.storeEnvelopes([envelope(full, 100)], LIMITS);
      const results = await storage.storeEnvelopes(
        [envelope(full, 300), envelope(roomy, 300), envelope(roomy, 50)],
        { mailboxQuota: 1, maxStorageBytes: 200 },
      );
      expect(results.map((r) => r.kind)).toEqual(['mailbox-full', 'storage-full', 'stored']);
      expect(await counters(admin)).toEqual({ usage: 150, held: 150, wrongMailboxes: 0 });
    },
  );

  withDatabase(
    'the seqs a batch answers are the rows’ seqs, gapless per mailbox across calls and refusals',
    async (storage, admin) => {
      const [a, b] = [box(), box()];
      const answered = [
        ...(await postgresMailboxes.store(admin, [envelope(a), envelope(b), envelope(a)], LIMITS)),
        ...(await postgresMailboxes.store(admin, [envelope(a, 50)], {
          mailboxQuota: 1,
          maxStorageBytes: 1e9,
        })),
        ...(await postgresMailboxes.store(admin, [envelope(b), envelope(a)], LIMITS)),
      ];
      expect(answered.map((r) => (r.kind === 'stored' ? r.seq : r.kind))).toEqual([
        1,
        1,
        2,
        'mailbox-full',
        2,
        3,
      ]);
      const { rows } = await admin.query<{ id: string; seq: string }>(
        'SELECT id, seq FROM envelope',
      );
      const rowSeq = new Map(rows.map((row) => [row.id, Number(row.seq)]));
      for (const result of answered.filter((r) => r.kind === 'stored'))
        expect(result.seq).toBe(rowSeq.get(idOf(result)));
    },
  );
});
