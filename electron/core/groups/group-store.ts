import { type GroupSnapshot, groupSnapshotSchema } from '../../../shared/protocol/group.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import type { Sql } from '../db/sqlite.ts';
import { receivedDisplayName } from '../profile/display-name.ts';
import type { UpdateRefusal } from './apply-update.ts';

// Groups in the database (migration 0009): the current state as rows (so
// lookups by member are indexed), the state before the last update as a JSON
// snapshot (for the concurrent-update tie-break).

/** Our standing in a group. */
export type Standing = 'member' | 'left' | 'removed';

/** A group as stored. */
export interface StoredGroup {
  /** Row id (`groups.id`). */
  readonly ref: number;
  readonly state: GroupSnapshot;
  readonly previous: GroupSnapshot | undefined;
  readonly standing: Standing;
  /** Current members whose contact moved to a new identity, not yet accepted (member-identity.ts). */
  readonly changedMembers: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

type GroupRow = {
  id: number;
  group_id: Uint8Array<ArrayBuffer>;
  title: string;
  revision: number;
  head_hash: Uint8Array<ArrayBuffer>;
  prev_state: string | null;
  state: Standing;
  created_at: number;
  updated_at: number;
};

type MemberRow = {
  account_id: string;
  identity_key: Uint8Array<ArrayBuffer>;
  display_name: string | null;
  relay: string;
  relay_id: string | null;
  delivery_token: Uint8Array<ArrayBuffer>;
  admin: number;
};

/** The group with id `groupId` (base64), or undefined. */
export function loadGroup(db: Sql, groupId: string): StoredGroup | undefined {
  const row = db
    .prepare('SELECT * FROM groups WHERE group_id = ?')
    .get<GroupRow>([fromBase64(groupId)]);
  return row ? toStored(db, row) : undefined;
}

/** What a send needs to know of a group before it writes: no member rows, no snapshot. */
export interface GroupHead {
  readonly ref: number;
  readonly groupId: string;
  readonly standing: Standing;
  /** Current members whose contact moved to a new identity, not yet accepted (member-identity.ts). */
  readonly changedMembers: readonly string[];
}

/**
 * The head of the group with id `groupId` (base64), or undefined: a send
 * checks standing and flagged members without reading every member (a
 * 1,000-member group's rows cost a send more than its seal setup).
 */
export function loadGroupHead(db: Sql, groupId: string): GroupHead | undefined {
  const row = db
    .prepare('SELECT id, state FROM groups WHERE group_id = ?')
    .get<{ id: number; state: Standing }>([fromBase64(groupId)]);
  if (!row) return undefined;
  return {
    ref: row.id,
    groupId,
    standing: row.state,
    changedMembers: changedMembersOf(db, row.id),
  };
}

/** Row id of the group with id `groupId` (base64), or undefined. */
export function groupRef(db: Sql, groupId: string): number | undefined {
  return db
    .prepare('SELECT id FROM groups WHERE group_id = ?', { pluck: true })
    .get<number>([fromBase64(groupId)]);
}

function changedMembersOf(db: Sql, ref: number): string[] {
  return db
    .prepare(
      "SELECT account_id FROM group_members WHERE group_ref = ? AND state = 'member' AND identity_changed = 1 ORDER BY rowid",
      { pluck: true },
    )
    .all<string>([ref]);
}

/** The group with row id `ref`, or undefined. */
export function loadGroupByRef(db: Sql, ref: number): StoredGroup | undefined {
  const row = db.prepare('SELECT * FROM groups WHERE id = ?').get<GroupRow>([ref]);
  return row ? toStored(db, row) : undefined;
}

/** Every group, most recently changed first. */
export function listGroups(db: Sql): StoredGroup[] {
  return db
    .prepare('SELECT * FROM groups ORDER BY updated_at DESC, id DESC')
    .all<GroupRow>()
    .map((row) => toStored(db, row));
}

function toStored(db: Sql, row: GroupRow): StoredGroup {
  const members = db
    .prepare(
      `SELECT account_id, identity_key, display_name, relay, relay_id, delivery_token, admin
       FROM group_members WHERE group_ref = ? AND state = 'member' ORDER BY rowid`,
    )
    .all<MemberRow>([row.id]);
  const state: GroupSnapshot = {
    groupId: toBase64(row.group_id),
    title: row.title,
    revision: row.revision,
    head: toBase64(row.head_hash),
    members: members.map((m) => ({
      accountId: m.account_id as GroupSnapshot['members'][number]['accountId'],
      identityKey: toBase64(m.identity_key),
      name: m.display_name ?? 'Member',
      relay: m.relay,
      relayId: m.relay_id ?? '',
      token: toBase64(m.delivery_token),
      admin: m.admin === 1,
    })),
  };
  let previous: GroupSnapshot | undefined;
  if (row.prev_state !== null) {
    const parsed = groupSnapshotSchema.safeParse(JSON.parse(row.prev_state));
    previous = parsed.success ? parsed.data : undefined;
  }
  const changedMembers = changedMembersOf(db, row.id);
  return {
    ref: row.id,
    state,
    previous,
    standing: row.state,
    changedMembers,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Writes `state` as the group's current state (creating the group), with
 * `previous` kept for the tie-break and our `standing`. Members no longer in
 * the state are kept as 'removed' rows (their names stay in history).
 */
export function saveGroup(
  db: Sql,
  state: GroupSnapshot,
  previous: GroupSnapshot | undefined,
  standing: Standing,
  now: number,
): number {
  const groupId = fromBase64(state.groupId);
  db.prepare(
    `INSERT INTO groups (group_id, title, revision, head_hash, prev_state, state, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (group_id) DO UPDATE SET title = excluded.title, revision = excluded.revision,
       head_hash = excluded.head_hash, prev_state = excluded.prev_state, state = excluded.state,
       updated_at = excluded.updated_at`,
  ).run([
    groupId,
    state.title,
    state.revision,
    fromBase64(state.head),
    previous ? JSON.stringify(previous) : null,
    standing,
    now,
    now,
  ]);
  const ref = db
    .prepare('SELECT id FROM groups WHERE group_id = ?', { pluck: true })
    .get<number>([groupId])!;
  db.prepare("UPDATE group_members SET state = 'removed' WHERE group_ref = ?").run([ref]);
  const upsert = db.prepare(
    `INSERT INTO group_members (group_ref, account_id, identity_key, display_name, relay, relay_id,
       delivery_token, admin, state, joined_revision)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'member', ?)
     ON CONFLICT (group_ref, account_id) DO UPDATE SET identity_key = excluded.identity_key,
       display_name = excluded.display_name, relay = excluded.relay, relay_id = excluded.relay_id,
       delivery_token = excluded.delivery_token, admin = excluded.admin, state = 'member'`,
  );
  for (const m of state.members) {
    upsert.run([
      ref,
      m.accountId,
      fromBase64(m.identityKey),
      // The admin's word: a name against the display-name rule is kept as none ('Member').
      receivedDisplayName(m.name) ?? null,
      m.relay,
      m.relayId,
      fromBase64(m.token),
      m.admin ? 1 : 0,
      state.revision,
    ]);
  }
  return ref;
}

/** Counts a refused update by reason (content-free). */
export function countUpdateRefusal(
  db: Sql,
  reason: UpdateRefusal | 'SKDM_NOT_MEMBER' | 'NOT_MEMBER_MESSAGE' | 'RETRY_REFUSED' | 'PARTS_FULL',
): void {
  db.prepare(
    `INSERT INTO group_update_refusals (reason, count) VALUES (?, 1)
     ON CONFLICT (reason) DO UPDATE SET count = count + 1`,
  ).run([reason]);
}

/** Refused group updates and distribution messages, by reason. */
export function updateRefusals(db: Sql): Record<string, number> {
  const rows = db
    .prepare('SELECT reason, count FROM group_update_refusals')
    .all<{ reason: string; count: number }>();
  return Object.fromEntries(rows.map((r) => [r.reason, r.count]));
}

/** True if `accountId` (with this identity key) is a current member of the group `ref`. */
export function isCurrentMember(
  db: Sql,
  ref: number,
  accountId: string,
  identityKey?: Uint8Array,
): boolean {
  const row = db
    .prepare(
      "SELECT identity_key FROM group_members WHERE group_ref = ? AND account_id = ? AND state = 'member'",
    )
    .get<{ identity_key: Uint8Array<ArrayBuffer> }>([ref, accountId]);
  if (!row) return false;
  return (
    identityKey === undefined || Buffer.from(row.identity_key).equals(Buffer.from(identityKey))
  );
}
