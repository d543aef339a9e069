import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  groupMessageStatus,
  retryGroupMessage,
} from '../../../electron/core/groups/group-resend.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { restoredElsewhere } from '../../support/backup.ts';
import { afterTest } from '../../support/engines.ts';
import { thrownCode } from '../../support/errors.ts';
import { aliceBobCarol, type Person, settle } from '../../support/group-world.ts';
import {
  blobRow,
  copies,
  count,
  expireBlob,
  refusedAfterUpload,
  savedMatches,
  storedFiles,
} from '../../support/refused-fanout.ts';

// Retry of a refused fan-out for rows whose blob cannot be made again from
// their key (attachments.blob_rederivable 0: restored from a backup, or from
// before migration 0021), and for a stored copy that no longer makes the
// blob its pointer names. A restored row whose blob expired gets a new key;
// a row of version 20 is marked uploaded without a byte while the relay
// holds its whole blob, and sealed again under a new key (never resumed)
// when it holds a part; an altered stored copy is ATTACHMENT_TAMPERED before
// anything is reserved: no blob, no member gets the message.

const blobFiles = (relay: string) => readdirSync(join(relay, 'blobs')).sort();
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Alice's profile restored from a backup of it into a new folder, with its engine (the old one closed). */
async function restoredAlice(alice: Person): Promise<Person> {
  const passphrase = 'restored passphrase';
  const { dir, profile } = await restoredElsewhere(alice, passphrase);
  const engine = new SyncEngine(profile);
  afterTest(() => engine.close());
  return { name: alice.name, dir, passphrase, profile, engine };
}

describe('retry of a refused fan-out: rows that cannot re-derive their blob', () => {
  it('a restored row whose blob expired is sealed again under a new key; every member gets the file', async () => {
    const { alice, bob, carol, group, relay } = await aliceBobCarol('Restored');
    await refusedAfterUpload(alice, group.groupId, 'field notes');
    const restored = await restoredAlice(alice);
    const id = count(restored, "SELECT id FROM group_messages WHERE body = 'field notes'");
    const before = blobRow(restored, id);
    // A backup does not say how the blob's IV was made.
    expect(before.blob_rederivable).toBe(0);
    expireBlob(relay, before.blob_id);

    retryGroupMessage(restored.profile, id);
    await settle([restored, bob, carol]);
    const after = blobRow(restored, id);
    expect(after.blob_id).not.toBe(before.blob_id);
    expect(same(after.transport_key, before.transport_key)).toBe(false);
    expect(same(after.digest, before.digest)).toBe(false);
    // Sealed by this version: re-derivable from now on.
    expect(after.blob_rederivable).toBe(1);
    expect(blobFiles(relay)).toEqual([`${after.blob_id}.data`, `${after.blob_id}.json`].sort());
    expect([copies(bob, 'field notes'), copies(carol, 'field notes')]).toEqual([1, 1]);
    expect([storedFiles(bob), storedFiles(carol)]).toEqual([1, 1]);
    expect(await savedMatches(bob, 'field notes')).toBe(true);
    expect(await savedMatches(carol, 'field notes')).toBe(true);
  }, 300_000);

  it('a row from before migration 0021: a whole blob is kept without a byte sent, a part is never resumed but sealed again', async () => {
    const { alice, bob, carol, all, group, relay } = await aliceBobCarol('Older');
    const whole = await refusedAfterUpload(alice, group.groupId, 'kept whole');
    const part = await refusedAfterUpload(alice, group.groupId, 'kept in part');
    // As the migration leaves every row: not known to be re-derivable.
    alice.profile.db.exec('UPDATE attachments SET blob_rederivable = 0');
    const [wholeBefore, partBefore] = [blobRow(alice, whole), blobRow(alice, part)];
    const partData = join(relay, 'blobs', `${partBefore.blob_id}.data`);
    truncateSync(partData, 1000);
    const wholeData = join(relay, 'blobs', `${wholeBefore.blob_id}.data`);
    const wholeBytes = readFileSync(wholeData);

    retryGroupMessage(alice.profile, whole);
    retryGroupMessage(alice.profile, part);
    await settle(all);
    expect(blobRow(alice, whole)).toEqual(wholeBefore);
    expect(readFileSync(wholeData).equals(wholeBytes)).toBe(true);
    const partAfter = blobRow(alice, part);
    expect(partAfter.blob_id).not.toBe(partBefore.blob_id);
    expect(same(partAfter.transport_key, partBefore.transport_key)).toBe(false);
    expect(partAfter.blob_rederivable).toBe(1);
    // The part is left for the relay's TTL, untouched.
    expect(readFileSync(partData)).toHaveLength(1000);
    for (const caption of ['kept whole', 'kept in part']) {
      expect([copies(bob, caption), copies(carol, caption)]).toEqual([1, 1]);
      expect(await savedMatches(carol, caption)).toBe(true);
    }
  }, 300_000);
});

describe('retry of a refused fan-out: hostile stored copies', () => {
  it('an altered stored copy, or a digest it does not make: ATTACHMENT_TAMPERED, nothing reserved or uploaded, nobody gets it', async () => {
    const { alice, bob, carol, all, group, relay } = await aliceBobCarol('Tampered');
    const altered = await refusedAfterUpload(alice, group.groupId, 'altered');
    const forged = await refusedAfterUpload(alice, group.groupId, 'forged digest');
    const [alteredBefore, forgedBefore] = [blobRow(alice, altered), blobRow(alice, forged)];
    for (const row of [alteredBefore, forgedBefore]) expireBlob(relay, row.blob_id);
    // One flipped byte in the middle of the stored copy (its at-rest chunk no longer authenticates).
    const name = alice.profile.db
      .prepare('SELECT local_name FROM attachments WHERE group_message_id = ?', { pluck: true })
      .get<string>([altered])!;
    const path = join(alice.dir, 'attachments', name);
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1]! ^= 0x01;
    writeFileSync(path, bytes);
    // A row whose digest its (intact) stored copy does not make under its key.
    alice.profile.db
      .prepare('UPDATE attachments SET digest = ? WHERE group_message_id = ?')
      .run([new Uint8Array(randomBytes(32)), forged]);

    retryGroupMessage(alice.profile, altered);
    retryGroupMessage(alice.profile, forged);
    await settle(all);
    for (const id of [altered, forged]) {
      expect(groupMessageStatus(alice.profile.db, id)).toBe('failed');
      expect(
        count(alice, 'SELECT count(*) FROM attachments WHERE group_message_id = ? AND error = ?', [
          id,
          'ATTACHMENT_TAMPERED',
        ]),
      ).toBe(1);
      // Failed for good: not retried.
      expect(thrownCode(() => retryGroupMessage(alice.profile, id))).toBe('INVALID_INPUT');
    }
    // No blob was reserved (the expired ones are gone), so not a byte was uploaded.
    expect(blobFiles(relay)).toEqual([]);
    expect(same(blobRow(alice, altered).transport_key, alteredBefore.transport_key)).toBe(true);
    for (const caption of ['altered', 'forged digest'])
      expect([copies(bob, caption), copies(carol, caption)]).toEqual([0, 0]);
  }, 300_000);
});
