import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { loadGroup, type StoredGroup } from './group-store.ts';

// A member whose contact moved to a new identity (a `moved` notice,
// crypto/identity-move.ts) is a different account from then on: the group
// still lists the old one, and the user decides, as for 1:1, before anything
// more is sent to the group. An admin may remove the member (the flag goes
// with them); any member may accept and keep sending to the group as it is.
// Nothing from the new key counts as the old member's: membership is by
// account id and the key the group holds (group-store.ts isCurrentMember).

/** Flags every current group membership of `accountId` (in the transaction that applied its move notice). */
export function flagMovedMember(db: Sql, accountId: string): number {
  return db
    .prepare(
      "UPDATE group_members SET identity_changed = 1 WHERE account_id = ? AND state = 'member'",
    )
    .run([accountId]).changes;
}

/** The user accepted `accountId`'s move on its safety number screen: that decision covers its groups too. */
export function clearMovedMember(db: Sql, accountId: string): void {
  db.prepare('UPDATE group_members SET identity_changed = 0 WHERE account_id = ?').run([accountId]);
}

/** Throws IDENTITY_CHANGED while some member of `group` is flagged (sending waits for the user). */
export function assertNoChangedMember(group: Pick<StoredGroup, 'changedMembers'>): void {
  if (group.changedMembers.length > 0) throw new SottoError('IDENTITY_CHANGED');
}

/** The user accepts a flagged member as they are in the group: sending to the group resumes. */
export function acceptMemberChange(profile: Profile, groupId: string, accountId: string): void {
  profile.commit(undefined, (db) => {
    const group = loadGroup(db, groupId);
    if (!group) throw new SottoError('UNKNOWN_GROUP');
    const { changes } = db
      .prepare(
        "UPDATE group_members SET identity_changed = 0 WHERE group_ref = ? AND account_id = ? AND state = 'member'",
      )
      .run([group.ref, accountId]);
    if (changes === 0) throw new SottoError('INVALID_INPUT', 'not a member of the group');
  });
}
