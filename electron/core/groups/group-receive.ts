import type { Content } from '../../../shared/protocol/content.ts';
import type { GroupSnapshot, SignedGroupUpdate } from '../../../shared/protocol/group.ts';
import type { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import type { Sql } from '../db/sqlite.ts';
import { admissibleTitle, applyUpdate, type UpdateRefusal } from './apply-update.ts';
import {
  abandonGroupOutbox,
  ensureMemberContacts,
  resetOwnChain,
  someoneLeft,
} from './group-effects.ts';
import { updateHash, verifyUpdate } from './group-signing.ts';
import { DbPartBuffer, gatherPart, type Gathered, type PartBuffer } from './snapshot-parts.ts';
import {
  countUpdateRefusal,
  loadGroup,
  saveGroup,
  type Standing,
  type StoredGroup,
} from './group-store.ts';

// A signed group update received pairwise (receive-commit.ts calls this in
// the batch's transaction). Applied by the rules of apply-update.ts; a
// refused one changes nothing and is counted by reason. An update that
// adds us carries the group's state, which we take on the word of the admin
// who signed the add.

type PartRefusal = Extract<Gathered, { kind: 'refused' }>['reason'];

/** Who we are, for the receive side. */
export interface Self {
  readonly accountId: string;
  readonly deviceId: number;
}

/** Where a received update leads: the new state, or why it was refused. */
export type NextState =
  | {
      readonly ok: true;
      readonly state: GroupSnapshot;
      /** The state it was built on (kept for the tie-break). */
      readonly base: GroupSnapshot | undefined;
      readonly standing: Standing;
    }
  | { readonly ok: false; readonly reason: UpdateRefusal };

/**
 * The state a received update leads to from `stored` (pure: the receive
 * loop uses it to know a batch's memberships before the commit applies it).
 */
export function nextGroupState(
  stored: Pick<StoredGroup, 'state' | 'previous' | 'standing'> | undefined,
  content: Extract<Content, { type: 'group-update' }>,
  sender: string,
  self: string,
): NextState {
  const { signed, snapshot } = content;
  if (snapshot !== undefined && content.snapshotPart !== undefined)
    return { ok: false, reason: 'INVALID' };
  if (snapshot !== undefined && addsUs(stored, content, self)) {
    return acceptSnapshot(signed, snapshot, sender, self)
      ? { ok: true, state: snapshot, base: undefined, standing: 'member' }
      : { ok: false, reason: 'BAD_SIGNATURE' };
  }
  if (stored && stored.standing !== 'member') return { ok: false, reason: 'STALE' };
  const applied = applyUpdate(stored?.state, stored?.previous, signed, sender);
  if (!applied.ok) return applied;
  const stillIn = applied.state.members.some((m) => m.accountId === self);
  return {
    ok: true,
    state: applied.state,
    // A tie-break winner replaces the loser's result: it was built on the state before it.
    base: applied.replaced ? stored?.previous : stored?.state,
    standing: stillIn ? 'member' : 'removed',
  };
}

/** True if `content` is an add of `self` to a group we are not (or no longer) in. */
export function addsUs(
  stored: Pick<StoredGroup, 'standing'> | undefined,
  content: Extract<Content, { type: 'group-update' }>,
  self: string,
): boolean {
  const { action } = content.signed.update;
  return (
    action.kind === 'add' &&
    action.member.accountId === self &&
    (!stored || stored.standing !== 'member')
  );
}

/**
 * The content to apply once its snapshot parts are in (snapshot-parts.ts): itself if
 * it carries no part or does not add us (a part then means nothing), the
 * whole snapshot when this was the last part, or why not yet.
 */
export function withParts(
  buffer: PartBuffer,
  stored: Pick<StoredGroup, 'standing'> | undefined,
  content: Extract<Content, { type: 'group-update' }>,
  sender: string,
  self: string,
  now: number,
): Extract<Content, { type: 'group-update' }> | 'pending' | { readonly refused: PartRefusal } {
  if (!content.snapshotPart || !addsUs(stored, content, self)) return content;
  const gathered = gatherPart(buffer, content, sender, now);
  if (gathered.kind === 'complete') return gathered.content;
  return gathered.kind === 'pending' ? 'pending' : { refused: gathered.reason };
}

/** Applies a received group update; true if it changed the group. */
export function receiveGroupUpdate(
  db: Sql,
  tx: ProtocolTransaction,
  self: Self,
  sender: string,
  content: Extract<Content, { type: 'group-update' }>,
  now: number,
): boolean {
  const stored = loadGroup(db, content.signed.update.groupId);
  const whole = withParts(new DbPartBuffer(db), stored, content, sender, self.accountId, now);
  if (whole === 'pending') return false;
  if ('refused' in whole) {
    countUpdateRefusal(db, whole.refused);
    return false;
  }
  const next = nextGroupState(stored, whole, sender, self.accountId);
  if (!next.ok) {
    countUpdateRefusal(db, next.reason);
    return false;
  }
  const ref = saveGroup(db, next.state, next.base, next.standing, now);
  ensureMemberContacts(db, tx, self.accountId, next.state, now);
  // Compared with what we had, not only with the base: a replaced update may have added someone now gone.
  const before = stored?.standing === 'member' ? stored.state : undefined;
  if (
    before &&
    (someoneLeft(before, next.state) || (next.base && someoneLeft(next.base, next.state)))
  )
    resetOwnChain(db, ref, `${self.accountId}.${self.deviceId}`);
  if (next.standing !== 'member') abandonGroupOutbox(db, ref);
  return true;
}

/**
 * The state an add brings to the member it adds: it must be the result of
 * this very update (same revision, head = the update's hash), list us, and
 * the author must be an admin in it whose key signed the update.
 */
function acceptSnapshot(
  signed: SignedGroupUpdate,
  snapshot: GroupSnapshot,
  sender: string,
  self: string,
): boolean {
  const { update } = signed;
  if (update.author !== sender || snapshot.groupId !== update.groupId) return false;
  if (snapshot.revision !== update.revision || snapshot.head !== updateHash(signed)) return false;
  if (!snapshot.members.some((m) => m.accountId === self) || !admissibleTitle(snapshot.title))
    return false;
  const author = snapshot.members.find((m) => m.accountId === update.author);
  return author !== undefined && author.admin && verifyUpdate(signed, author.identityKey);
}
