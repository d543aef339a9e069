import { randomUUID } from 'node:crypto';
import {
  groupEncrypt,
  SenderKeyDistributionMessage,
  SenderKeyMessage,
} from '@signalapp/libsignal-client';
import {
  type Content,
  encodeContent,
  MAX_BODY_CHARS,
  MAX_CONTENT_BYTES,
} from '../../../shared/protocol/content.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';
import { faultPoint } from '../crypto/key-maintenance.ts';
import { localAddress } from '../messaging/addresses.ts';
import { newMessageId } from '../messaging/message-id.ts';
import { queueGroupContent } from '../messaging/outbox.ts';
import type { Profile } from '../profile/profile.ts';
import { resetOwnChain } from './group-effects.ts';
import { logSentKey } from './group-retry.ts';
import { type GroupHead, loadGroupHead } from './group-store.ts';
import { assertNoChangedMember } from './member-identity.ts';
import { SenderKeyUnit } from './sender-key-store.ts';

// The send path of group messages before the relay: store and queue (R4),
// share this device's chain with members who lack it (pairwise, through the
// 1:1 outbox), and encrypt each queued message once with the sender key,
// committing the advanced chain with the ciphertext (R4 for sender keys:
// a crash can never reuse an iteration).

let encryptions = 0;

/** A chain older than this is replaced before the next send (Signal's 90 days). */
export const SENDER_KEY_MAX_AGE_MS = 90 * 24 * 60 * 60 * 1000;

/** An outgoing group message, stored and queued. */
export interface QueuedGroupMessage {
  readonly id: number;
  readonly uuid: string;
  readonly groupRef: number;
  readonly sentAt: number;
}

/** Stores a group message and queues it, in one transaction (works offline). */
export function queueGroupText(
  profile: Profile,
  groupId: string,
  body: string,
  now = Date.now(),
): QueuedGroupMessage {
  if (body.length > MAX_BODY_CHARS) throw new SottoError('MESSAGE_TOO_LONG');
  if (body.length === 0) throw new SottoError('INVALID_INPUT', 'empty message');
  return profile.commit(undefined, (db) => {
    const group = sendableGroup(db, groupId);
    const uuid = newMessageId(now);
    const sentAt = nextGroupSentAt(db, profile, now);
    const content: Content = { v: 1, type: 'group-text', groupId, id: uuid, sentAt, body };
    const payload = encodeContent(content);
    if (payload.length > MAX_CONTENT_BYTES) throw new SottoError('MESSAGE_TOO_LONG');
    const id = insertOutgoingGroupMessage(db, profile, group, { uuid, sentAt, body }, now);
    enqueueGroupMessage(db, group, profile.account.accountId, id, payload, now);
    return { id, uuid, groupRef: group.ref, sentAt };
  });
}

/** The group, if this device may write to it now (UNKNOWN_GROUP, NOT_GROUP_MEMBER, IDENTITY_CHANGED). */
export function sendableGroup(db: Sql, groupId: string): GroupHead {
  const group = loadGroupHead(db, groupId);
  if (!group) throw new SottoError('UNKNOWN_GROUP');
  if (group.standing !== 'member') throw new SottoError('NOT_GROUP_MEMBER');
  assertNoChangedMember(group);
  return group;
}

/** This device's next group sent time: now, or one past its latest (sent times order a sender's messages). */
export function nextGroupSentAt(db: Sql, profile: Profile, now: number): number {
  const last = Number(
    db
      .prepare(
        'SELECT max(sent_at) FROM group_messages WHERE sender_account = ? AND sender_device = ?',
        { pluck: true },
      )
      .get([profile.account.accountId, profile.account.deviceId]) ?? 0,
  );
  return Math.max(now, last + 1);
}

/** Stores an outgoing group message as queued; returns its row id. */
export function insertOutgoingGroupMessage(
  db: Sql,
  profile: Profile,
  group: Pick<GroupHead, 'ref'>,
  message: { readonly uuid: string; readonly sentAt: number; readonly body: string },
  now: number,
): number {
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
       VALUES (?, ?, 1, ?, ?, ?, ?, ?, 'queued')`,
    )
    .run([
      message.uuid,
      group.ref,
      profile.account.accountId,
      profile.account.deviceId,
      message.sentAt,
      now,
      message.body,
    ]);
  return Number(lastInsertRowid);
}

/** Queues a stored group message's encoded content for every member but us (with its receipt rows). */
export function enqueueGroupMessage(
  db: Sql,
  group: Pick<GroupHead, 'ref'>,
  self: string,
  messageId: number,
  payload: Uint8Array<ArrayBuffer>,
  now: number,
): void {
  db.prepare(
    'INSERT INTO group_outbox (message_id, client_message_id, group_ref, payload, created_at) VALUES (?, ?, ?, ?, ?)',
  ).run([messageId, randomUUID(), group.ref, payload, now]);
  // The current members' rows, as the stored state lists them: one statement, not one per member.
  db.prepare(
    `INSERT INTO group_receipts (message_id, account_id)
     SELECT ?, account_id FROM group_members WHERE group_ref = ? AND state = 'member' AND account_id <> ?`,
  ).run([messageId, group.ref, self]);
}

/**
 * Shares this device's chain with every current member who does not hold it
 * yet (a new group, a new member, a rotation after a departure, a retry
 * request, a chain past its 90 days): one SKDM per member, queued pairwise in
 * the transaction that records them as holders and commits the chain.
 */
export function distributeSenderKeys(profile: Profile, now = Date.now()): Promise<number> {
  return profile.exclusive(async () => {
    const db = profile.db;
    const own = `${profile.account.accountId}.${profile.account.deviceId}`;
    const refs = db
      .prepare("SELECT id FROM groups WHERE state = 'member'", { pluck: true })
      .all<number>();
    let queued = 0;
    for (const ref of refs) {
      const info = db
        .prepare('SELECT distribution_id, created_at FROM own_sender_keys WHERE group_ref = ?')
        .get<{ distribution_id: string; created_at: number }>([ref]);
      const expired = info !== undefined && now - info.created_at > SENDER_KEY_MAX_AGE_MS;
      const distributionId = !info || expired ? randomUUID() : info.distribution_id;
      // Every pass asks this of every group: one indexed query, not the whole member list.
      const missing = db
        .prepare(
          `SELECT m.account_id FROM group_members m WHERE m.group_ref = ? AND m.state = 'member'
             AND m.account_id <> ? AND (? OR NOT EXISTS (SELECT 1 FROM sender_key_shared s
               WHERE s.group_ref = m.group_ref AND s.account_id = m.account_id))
           ORDER BY m.rowid`,
          { pluck: true },
        )
        .all<string>([ref, profile.account.accountId, expired ? 1 : 0]);
      if (missing.length === 0 && info && !expired) continue;
      const groupId = toBase64(
        db
          .prepare('SELECT group_id FROM groups WHERE id = ?', { pluck: true })
          .get<Uint8Array<ArrayBuffer>>([ref])!,
      );
      const unit = new SenderKeyUnit(db);
      const skdm = await SenderKeyDistributionMessage.create(
        localAddress(profile),
        distributionId,
        unit.store,
      );
      profile.commit(undefined, (tx) => {
        if (expired) resetOwnChain(tx, ref, own);
        unit.write(tx, now);
        tx.prepare(
          'INSERT OR IGNORE INTO own_sender_keys (group_ref, distribution_id, created_at) VALUES (?, ?, ?)',
        ).run([ref, distributionId, now]);
        const share = tx.prepare(
          'INSERT OR IGNORE INTO sender_key_shared (group_ref, account_id, device_id) VALUES (?, ?, 1)',
        );
        for (const accountId of missing) {
          queueGroupContent(
            tx,
            accountId,
            {
              v: 1,
              type: 'skdm',
              groupId,
              skdm: toBase64(skdm.serialize()),
              sentAt: now,
            },
            now,
          );
          share.run([ref, accountId]);
        }
      });
      queued += missing.length;
    }
    return queued;
  });
}

/**
 * Encrypts queued group messages once each with this device's chain. The
 * chain advance, the ciphertext, its recipients (the members holding the
 * chain now) and the sent-log entry commit in one transaction per message.
 */
export function encryptGroupQueued(profile: Profile, now = Date.now()): Promise<number> {
  return profile.exclusive(async () => {
    const db = profile.db;
    const rows = db
      .prepare(
        `SELECT o.id, o.message_id, o.group_ref, o.payload, k.distribution_id FROM group_outbox o
         JOIN own_sender_keys k ON k.group_ref = o.group_ref WHERE o.payload IS NOT NULL ORDER BY o.id`,
      )
      .all<{
        id: number;
        message_id: number;
        group_ref: number;
        payload: Uint8Array<ArrayBuffer>;
        distribution_id: string;
      }>();
    for (const row of rows) {
      const unit = new SenderKeyUnit(db);
      const message = await groupEncrypt(
        localAddress(profile),
        row.distribution_id,
        unit.store,
        row.payload,
      );
      // Crash tests: killed here, the advance and the ciphertext are lost together.
      faultPoint(`group.encrypted.${++encryptions}`);
      const ciphertext = message.serialize();
      const header = SenderKeyMessage.deserialize(ciphertext);
      profile.commit(undefined, (tx) => {
        unit.write(tx, now);
        tx.prepare('UPDATE group_outbox SET ciphertext = ?, payload = NULL WHERE id = ?').run([
          ciphertext,
          row.id,
        ]);
        tx.prepare(
          `INSERT INTO group_outbox_recipients (outbox_id, account_id)
           SELECT ?, s.account_id FROM sender_key_shared s JOIN group_members m
             ON m.group_ref = s.group_ref AND m.account_id = s.account_id AND m.state = 'member'
           WHERE s.group_ref = ?`,
        ).run([row.id, row.group_ref]);
        logSentKey(
          tx,
          row.message_id,
          {
            distributionId: header.distributionId(),
            chainId: header.chainId(),
            iteration: header.iteration(),
          },
          now,
        );
        settleIfDone(tx, row.id);
      });
    }
    return rows.length;
  });
}

/** An outbox entry with no recipient left is done: the message is sent. */
export function settleIfDone(db: Sql, outboxId: number): void {
  const left = db
    .prepare('SELECT count(*) FROM group_outbox_recipients WHERE outbox_id = ?', { pluck: true })
    .get<number>([outboxId]);
  if (Number(left) > 0) return;
  db.prepare(
    "UPDATE group_messages SET status = 'sent' WHERE status = 'queued' AND id = (SELECT message_id FROM group_outbox WHERE id = ? AND ciphertext IS NOT NULL)",
  ).run([outboxId]);
  db.prepare('DELETE FROM group_outbox WHERE id = ? AND ciphertext IS NOT NULL').run([outboxId]);
}
