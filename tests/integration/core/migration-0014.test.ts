import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { totalUnread } from '../../../electron/core/history/conversation-state.ts';
import { listConversations } from '../../../electron/core/history/history.ts';
import { clearMute, mutedUntil, setMute } from '../../../electron/core/history/mute.ts';
import { totalGroupUnread } from '../../../electron/core/groups/group-read.ts';
import { MUTE_FOREVER } from '../../../shared/mute.ts';
import { thrownCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

const KEY = new Uint8Array(32).fill(14);
const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;

/** A database at schema 12 with a contact's conversation (3 unread) and a group (1 unread incoming). */
function profileAt12(): Sql {
  const db = openKeyed(join(tempDir(), 'v12.db'), KEY);
  migrate(db, 12);
  db.prepare(
    `INSERT INTO contacts (account_id, display_name, created_at)
     VALUES ('0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b', 'Bob', 1)`,
  ).run();
  db.prepare(
    'INSERT INTO conversations (contact_id, unread_count, created_at) VALUES (1, 3, 1)',
  ).run();
  db.prepare(
    `INSERT INTO groups (group_id, title, revision, head_hash, state, created_at, updated_at)
     VALUES (?, 't', 0, ?, 'member', 1, 1)`,
  ).run([randomBytes(32), randomBytes(32)]);
  db.prepare(
    `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
     VALUES ('u1', 1, 0, 'a', 1, 1, 1, 'x', 'received')`,
  ).run();
  return db;
}

describe('migration 0014 (mute)', () => {
  it('starts everything unmuted, and a mute ends by the clock alone (no timer): expired reads as none', () => {
    const db = profileAt12();
    migrate(db, 14);
    expect(schemaVersion(db)).toBe(14);
    const conversation = { kind: 'conversation', id: 1 } as const;
    const group = { kind: 'group', ref: 1 } as const;
    expect(mutedUntil(db, conversation, NOW)).toBeNull();
    expect(totalUnread(db, NOW) + totalGroupUnread(db, NOW)).toBe(4);

    expect(setMute(db, conversation, HOUR, NOW)).toBe(NOW + HOUR);
    expect(setMute(db, group, null, NOW)).toBe(MUTE_FOREVER);
    expect(totalUnread(db, NOW)).toBe(0);
    expect(totalGroupUnread(db, NOW)).toBe(0);
    expect(listConversations(db, NOW)[0]?.mutedUntil).toBe(NOW + HOUR);
    // The row keeps its own count while muted.
    expect(listConversations(db, NOW)[0]?.unreadCount).toBe(3);

    // One millisecond past the end: unmuted for every reader, with nothing having run in between.
    const later = NOW + HOUR;
    expect(mutedUntil(db, conversation, later)).toBeNull();
    expect(listConversations(db, later)[0]?.mutedUntil).toBeNull();
    expect(totalUnread(db, later)).toBe(3);
    // "Always" outlives any clock.
    expect(mutedUntil(db, group, MUTE_FOREVER - 1)).toBe(MUTE_FOREVER);
    clearMute(db, group);
    expect(totalGroupUnread(db, NOW)).toBe(1);
  });

  it('refuses unknown targets and stored values that are not an end time', () => {
    const db = profileAt12();
    migrate(db, 14);
    expect(thrownCode(() => setMute(db, { kind: 'conversation', id: 99 }, HOUR, NOW))).toBe(
      'UNKNOWN_CONTACT',
    );
    expect(thrownCode(() => clearMute(db, { kind: 'group', ref: 99 }))).toBe('UNKNOWN_GROUP');
    for (const bad of [0, -1])
      expect(() => db.prepare('UPDATE conversations SET muted_until = ?').run([bad])).toThrow(
        /CHECK/,
      );
    expect(() => db.prepare('UPDATE groups SET muted_until = -5').run()).toThrow(/CHECK/);
  });
});
