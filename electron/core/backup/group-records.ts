import { PublicKey } from '@signalapp/libsignal-client';
import { z } from 'zod';
import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { MAX_BODY_CHARS } from '../../../shared/protocol/content.ts';
import {
  digestSchema,
  groupIdSchema,
  groupSnapshotSchema,
  identityKeySchema,
  MAX_GROUP_MEMBERS,
  MAX_GROUP_TITLE_CHARS,
} from '../../../shared/protocol/group.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import { activeMute } from '../../../shared/mute.ts';
import { deliveryTokenSchema, relayIdSchema } from '../../../shared/relay/protocol.ts';
import { deriveAccountId } from '../crypto/account-id.ts';
import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';
import { mutedUntilSchema } from './format/mute-records.ts';

// Groups in a backup (docs/backup-format.md#groups): each group's state with
// every member row (removed ones too: history keeps their names) and its
// history. Never sender keys: neither this device's chain nor members'
// chains, nor who holds ours. After a restore this device starts a new chain
// and shares it on its next send (groups/group-queue.ts), and asks members
// for theirs on their next message (retry requests, groups/group-retry.ts).

const time = z.number().int().nonnegative();

/** A group with its members, as `groups` and `group_members` hold it. */
export const groupRecordSchema = z.strictObject({
  type: z.literal('group'),
  groupId: groupIdSchema,
  title: z.string().min(1).max(MAX_GROUP_TITLE_CHARS),
  revision: z.number().int().nonnegative(),
  head: digestSchema,
  /** The state before the last update (the tie-break of concurrent updates). */
  previous: groupSnapshotSchema.nullable(),
  standing: z.enum(['member', 'left', 'removed']),
  createdAt: time,
  updatedAt: time,
  members: z
    .array(
      z.strictObject({
        accountId: accountIdSchema,
        identityKey: identityKeySchema,
        name: z.string().max(1000).nullable(),
        relay: z.string().min(1).max(2000),
        relayId: relayIdSchema.nullable(),
        token: deliveryTokenSchema,
        admin: z.boolean(),
        state: z.enum(['member', 'removed', 'left']),
        joinedRevision: z.number().int().nonnegative(),
        identityChanged: z.boolean(),
      }),
    )
    .min(1)
    // Current members and those who left or were removed over the group's life.
    .max(4 * MAX_GROUP_MEMBERS),
  mutedUntil: mutedUntilSchema,
});
export type GroupRecord = z.infer<typeof groupRecordSchema>;

/** One group message (incoming or outgoing). */
export const groupMessageRecordSchema = z.strictObject({
  type: z.literal('groupMessage'),
  uuid: z.uuid(),
  groupId: groupIdSchema,
  outgoing: z.boolean(),
  senderAccount: accountIdSchema,
  senderDevice: z.number().int().min(1).max(127),
  sentAt: time,
  receivedAt: time,
  status: z.enum(['queued', 'sent', 'delivered', 'failed', 'received']),
  body: z.string().max(MAX_BODY_CHARS),
});
export type GroupMessageRecord = z.infer<typeof groupMessageRecordSchema>;

/** Every group as backup records. */
export function readGroupRecords(db: Sql): GroupRecord[] {
  const groups = db.prepare('SELECT * FROM groups ORDER BY id').all<{
    id: number;
    group_id: Uint8Array<ArrayBuffer>;
    title: string;
    revision: number;
    head_hash: Uint8Array<ArrayBuffer>;
    prev_state: string | null;
    state: GroupRecord['standing'];
    created_at: number;
    updated_at: number;
    muted_until: number | null;
  }>();
  const members = db.prepare(
    `SELECT account_id, identity_key, display_name, relay, relay_id, delivery_token, admin, state,
       joined_revision, identity_changed FROM group_members WHERE group_ref = ? ORDER BY rowid`,
  );
  return groups.map((g) => {
    const previous =
      g.prev_state === null ? null : groupSnapshotSchema.safeParse(JSON.parse(g.prev_state));
    return {
      type: 'group',
      groupId: toBase64(g.group_id),
      title: g.title,
      revision: g.revision,
      head: toBase64(g.head_hash),
      previous: previous?.success ? previous.data : null,
      standing: g.state,
      createdAt: g.created_at,
      updatedAt: g.updated_at,
      members: members
        .all<{
          account_id: GroupRecord['members'][number]['accountId'];
          identity_key: Uint8Array<ArrayBuffer>;
          display_name: string | null;
          relay: string;
          relay_id: string | null;
          delivery_token: Uint8Array<ArrayBuffer>;
          admin: number;
          state: GroupRecord['members'][number]['state'];
          joined_revision: number;
          identity_changed: number;
        }>([g.id])
        .map((m) => ({
          accountId: m.account_id,
          identityKey: toBase64(m.identity_key),
          name: m.display_name,
          relay: m.relay,
          relayId: m.relay_id,
          token: toBase64(m.delivery_token),
          admin: m.admin === 1,
          state: m.state,
          joinedRevision: m.joined_revision,
          identityChanged: m.identity_changed === 1,
        })),
      mutedUntil: g.muted_until,
    };
  });
}

/** Every group message as backup records, oldest first. */
export function readGroupMessageRecords(db: Sql): GroupMessageRecord[] {
  return db
    .prepare(
      `SELECT m.uuid, g.group_id, m.outgoing, m.sender_account, m.sender_device, m.sent_at, m.received_at,
         m.status, m.body FROM group_messages m JOIN groups g ON g.id = m.group_ref ORDER BY m.id`,
    )
    .all<{
      uuid: string;
      group_id: Uint8Array<ArrayBuffer>;
      outgoing: number;
      sender_account: GroupMessageRecord['senderAccount'];
      sender_device: number;
      sent_at: number;
      received_at: number;
      status: GroupMessageRecord['status'];
      body: string;
    }>()
    .map((m) => ({
      type: 'groupMessage',
      uuid: m.uuid,
      groupId: toBase64(m.group_id),
      outgoing: m.outgoing === 1,
      senderAccount: m.sender_account,
      senderDevice: m.sender_device,
      sentAt: m.sent_at,
      receivedAt: m.received_at,
      status: m.status,
      body: m.body,
    }));
}

/**
 * Restores a group. A group the profile already has (a merge) keeps its own
 * state: it is at least as new as the backup's, which would only roll it back.
 */
export function restoreGroup(db: Sql, record: GroupRecord, now = Date.now()): void {
  const { changes, lastInsertRowid } = db
    .prepare(
      `INSERT INTO groups (group_id, title, revision, head_hash, prev_state, state, created_at, updated_at,
         muted_until)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id) DO NOTHING`,
    )
    .run([
      fromBase64(record.groupId),
      record.title,
      record.revision,
      fromBase64(record.head),
      record.previous ? JSON.stringify(record.previous) : null,
      record.standing,
      record.createdAt,
      record.updatedAt,
      activeMute(record.mutedUntil, now),
    ]);
  if (changes === 0) return;
  const insert = db.prepare(
    `INSERT INTO group_members (group_ref, account_id, identity_key, display_name, relay, relay_id,
       delivery_token, admin, state, joined_revision, identity_changed)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  for (const m of record.members)
    insert.run([
      Number(lastInsertRowid),
      m.accountId,
      fromBase64(m.identityKey),
      m.name,
      m.relay,
      m.relayId,
      fromBase64(m.token),
      m.admin ? 1 : 0,
      m.state,
      m.joinedRevision,
      m.identityChanged ? 1 : 0,
    ]);
}

/**
 * Restores a group message once (by sender and uuid); returns its new row id, or
 * undefined if it was there already. One of ours that was still queued stays
 * queued (its ciphertext was never carried: requeue-group-messages.ts puts
 * it back in the outbox); one of someone else's "queued" is refused as failed.
 */
export function restoreGroupMessage(
  db: Sql,
  record: GroupMessageRecord,
  ownAccountId: string,
): number | undefined {
  const ours = record.outgoing && record.senderAccount === ownAccountId;
  const { changes, lastInsertRowid } = db
    .prepare(
      `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
       SELECT ?, id, ?, ?, ?, ?, ?, ?, ? FROM groups WHERE group_id = ?
       ON CONFLICT DO NOTHING`,
    )
    .run([
      record.uuid,
      record.outgoing ? 1 : 0,
      record.senderAccount,
      record.senderDevice,
      record.sentAt,
      record.receivedAt,
      record.body,
      record.status === 'queued' && !ours ? 'failed' : record.status,
      fromBase64(record.groupId),
    ]);
  return changes > 0 ? Number(lastInsertRowid) : undefined;
}

/**
 * The identity rules of a backup (identity-check.ts) for groups: every
 * member's key derives its account id (IDENTITY_MISMATCH), and an outgoing
 * group message is from this account (BACKUP_TAMPERED).
 */
export function checkGroupIdentities(
  record: GroupRecord | GroupMessageRecord,
  ownAccountId: string,
): void {
  if (record.type === 'groupMessage') {
    if (record.outgoing && record.senderAccount !== ownAccountId)
      throw new SottoError('BACKUP_TAMPERED', 'group message sender');
    return;
  }
  for (const m of record.members) {
    let key: PublicKey;
    try {
      key = PublicKey.deserialize(fromBase64(m.identityKey));
    } catch {
      throw new SottoError('BACKUP_TAMPERED', 'key bytes');
    }
    if (deriveAccountId(key) !== m.accountId)
      throw new SottoError('IDENTITY_MISMATCH', 'group member');
  }
}
