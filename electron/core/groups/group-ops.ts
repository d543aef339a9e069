import { randomBytes } from 'node:crypto';
import { type AccountId, accountIdSchema } from '../../../shared/protocol/account-id.ts';
import type { Content } from '../../../shared/protocol/content.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  type GroupAction,
  type GroupSnapshot,
  MAX_GROUP_MEMBERS,
} from '../../../shared/protocol/group.ts';
import { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import { SottoError } from '../errors.ts';
import { nextSentAt } from '../messaging/clock.ts';
import { queueGroupContent } from '../messaging/outbox.ts';
import { normalizeDisplayName } from '../profile/display-name.ts';
import type { Profile } from '../profile/profile.ts';
import { applyUpdate } from './apply-update.ts';
import {
  abandonGroupOutbox,
  contactCard,
  ensureMemberContacts,
  ownCard,
  resetOwnChain,
  someoneLeft,
} from './group-effects.ts';
import { NO_PARENT, signUpdate } from './group-signing.ts';
import { loadGroup, saveGroup, type StoredGroup } from './group-store.ts';
import { snapshotContents } from './snapshot-parts.ts';

// Changes this user makes to a group: each is a signed update, applied here
// by the same rules every member applies (apply-update.ts), stored, and
// queued pairwise to every member in one transaction. A member being added
// also gets the full state; a member being removed gets the update that
// removes them (so their app knows).

/** Creates a group with this user as its admin and `members` (contacts' account ids). */
export function createGroup(
  profile: Profile,
  title: string,
  members: readonly string[],
  now = Date.now(),
): Promise<GroupSnapshot> {
  const cleanTitle = checkTitle(title);
  if (new Set(members).size + 1 > MAX_GROUP_MEMBERS) throw new SottoError('GROUP_TOO_LARGE');
  return change(
    profile,
    undefined,
    (db) => ({
      kind: 'create',
      title: cleanTitle,
      members: [
        ownCard(profile, true),
        ...[...new Set(members)]
          .filter((m) => m !== profile.account.accountId)
          .map((m) => contactCard(db, profile, m)),
      ],
    }),
    now,
    toBase64(randomBytes(32)),
  );
}

/** Adds a contact to a group (admins only). */
export function addMember(profile: Profile, groupId: string, accountId: string, now = Date.now()) {
  return change(
    profile,
    groupId,
    (db) => ({
      kind: 'add',
      member: contactCard(db, profile, accountId),
    }),
    now,
  );
}

/** Removes a member (admins only); every remaining member rotates its sender key. */
export function removeMember(
  profile: Profile,
  groupId: string,
  accountId: string,
  now = Date.now(),
) {
  return change(
    profile,
    groupId,
    () => ({ kind: 'remove', accountId: asAccountId(accountId) }),
    now,
  );
}

/** Leaves a group. */
export function leaveGroup(profile: Profile, groupId: string, now = Date.now()) {
  return change(profile, groupId, () => ({ kind: 'leave' }), now);
}

/** Renames a group (admins only). */
export function renameGroup(profile: Profile, groupId: string, title: string, now = Date.now()) {
  const cleanTitle = checkTitle(title);
  return change(profile, groupId, () => ({ kind: 'rename', title: cleanTitle }), now);
}

/** Makes a member an admin (admins only). */
export function makeAdmin(profile: Profile, groupId: string, accountId: string, now = Date.now()) {
  return change(
    profile,
    groupId,
    () => ({ kind: 'admin', accountId: asAccountId(accountId) }),
    now,
  );
}

/** INVALID_INPUT unless `value` is an account id (nothing malformed reaches a signature). */
function asAccountId(value: string): AccountId {
  const parsed = accountIdSchema.safeParse(value);
  if (!parsed.success) throw new SottoError('INVALID_INPUT', 'account id');
  return parsed.data;
}

/** A title follows the display-name rules (NFC, trimmed, 1–128 characters, no control or bidi-override characters). */
function checkTitle(title: string): string {
  return normalizeDisplayName(title);
}

function change(
  profile: Profile,
  groupId: string | undefined,
  action: (db: Profile['db']) => GroupAction,
  now: number,
  newGroupId?: string,
): Promise<GroupSnapshot> {
  const self = profile.account.accountId;
  return profile.exclusive(() => {
    const tx = new ProtocolTransaction(profile.state);
    return Promise.resolve(
      profile.commit(
        tx,
        (db) => {
          const stored = groupId === undefined ? undefined : loadGroup(db, groupId);
          if (groupId !== undefined && !stored) throw new SottoError('UNKNOWN_GROUP');
          if (stored && stored.standing !== 'member') throw new SottoError('NOT_GROUP_MEMBER');
          const act = action(db);
          const current = stored?.state;
          const signed = signUpdate(
            {
              groupId: current?.groupId ?? newGroupId!,
              revision: current ? current.revision + 1 : 0,
              parent: current?.head ?? NO_PARENT,
              author: self,
              action: act,
              signedAt: now,
            },
            profile.account.identity.privateKey,
          );
          const applied = applyUpdate(current, stored?.previous, signed, self);
          if (!applied.ok) {
            if (applied.reason === 'NOT_ADMIN') throw new SottoError('NOT_GROUP_ADMIN');
            throw new SottoError('INVALID_INPUT', `group update ${applied.reason}`);
          }
          const next = applied.state;
          const stillIn = next.members.some((m) => m.accountId === self);
          const ref = saveGroup(db, next, current, stillIn ? 'member' : 'left', now);
          ensureMemberContacts(db, tx, self, next, now);
          if (stored && someoneLeft(stored.state, next))
            resetOwnChain(db, ref, `${self}.${profile.account.deviceId}`);
          if (!stillIn) abandonGroupOutbox(db, ref);
          const sentAt = nextSentAt(db, self, profile.account.deviceId, now);
          for (const recipient of recipientsOf(stored, next, self)) {
            const contents: Content[] =
              act.kind === 'add' && act.member.accountId === recipient
                ? snapshotContents(signed, next, sentAt)
                : [{ v: 1, type: 'group-update', signed, sentAt }];
            for (const content of contents) queueGroupContent(db, recipient, content, now);
          }
          return next;
        },
        now,
      ),
    );
  });
}

/** Everyone who must hear of an update: the members before and after it, not ourselves. */
function recipientsOf(
  before: StoredGroup | undefined,
  after: GroupSnapshot,
  self: string,
): string[] {
  const all = new Set([
    ...(before?.state.members ?? []).map((m) => m.accountId),
    ...after.members.map((m) => m.accountId),
  ]);
  all.delete(self as AccountId);
  return [...all];
}
