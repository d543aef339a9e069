import type { Content } from '../../../shared/protocol/content.ts';
import type { GroupSnapshot, SignedGroupUpdate } from '../../../shared/protocol/group.ts';
import type { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import type { Sql } from '../db/sqlite.ts';
import { applyUpdate } from './apply-update.ts';
import { ensureMemberContacts, resetOwnChain, someoneLeft } from './group-effects.ts';
import { updateHash, verifyUpdate } from './group-signing.ts';
import { countUpdateRefusal, loadGroup, saveGroup } from './group-store.ts';

// A signed group update received pairwise (receive-commit.ts calls this in
// the batch's transaction). Applied by the rules of apply-update.ts; a
// refused one changes nothing and is counted by reason. An update that
// adds us carries the group's state, which we take on the word of the admin
// who signed the add.

/** Who we are, for the receive side. */
export interface Self {
  readonly accountId: string;
  readonly deviceId: number;
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
  const { signed, snapshot } = content;
  const stored = loadGroup(db, signed.update.groupId);
  const joining =
    snapshot !== undefined &&
    signed.update.action.kind === 'add' &&
    signed.update.action.member.accountId === self.accountId &&
    (!stored || stored.standing !== 'member');
  if (joining) {
    const accepted = acceptSnapshot(signed, snapshot, sender, self.accountId);
    if (!accepted) {
      countUpdateRefusal(db, 'BAD_SIGNATURE');
      return false;
    }
    saveGroup(db, snapshot, undefined, 'member', now);
    ensureMemberContacts(db, tx, self.accountId, snapshot, now);
    return true;
  }
  if (stored && stored.standing !== 'member') {
    countUpdateRefusal(db, 'STALE');
    return false;
  }
  const applied = applyUpdate(stored?.state, stored?.previous, signed, sender);
  if (!applied.ok) {
    countUpdateRefusal(db, applied.reason);
    return false;
  }
  const next = applied.state;
  // The state the new one was built on (a tie-break winner replaces the loser's result, not the base).
  const base = applied.replaced ? stored?.previous : stored?.state;
  const stillIn = next.members.some((m) => m.accountId === self.accountId);
  const ref = saveGroup(db, next, base, stillIn ? 'member' : 'removed', now);
  ensureMemberContacts(db, tx, self.accountId, next, now);
  // Compared with what we had, not only with the base: a replaced update may have added someone now gone.
  if (stored && (someoneLeft(stored.state, next) || (base && someoneLeft(base, next))))
    resetOwnChain(db, ref, `${self.accountId}.${self.deviceId}`);
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
  if (!snapshot.members.some((m) => m.accountId === self)) return false;
  const author = snapshot.members.find((m) => m.accountId === update.author);
  return author !== undefined && author.admin && verifyUpdate(signed, author.identityKey);
}
