import { PublicKey } from '@signalapp/libsignal-client';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import {
  type GroupMember,
  type GroupSnapshot,
  MAX_GROUP_MEMBERS,
  type SignedGroupUpdate,
} from '../../../shared/protocol/group.ts';
import { deriveAccountId } from '../crypto/account-id.ts';
import { receivedDisplayName } from '../profile/display-name.ts';
import { NO_PARENT, updateHash, verifyUpdate } from './group-signing.ts';

// The membership rules, as a pure function of (state, update): the same
// inputs give the same result on every member's device, which is what makes
// a group without a server converge (docs/message-format.md#groups).

/** Why an update was not applied (counted in `group_update_refusals`, content-free). */
export type UpdateRefusal =
  /** The signature does not verify under the author's key as the state knows it. */
  | 'BAD_SIGNATURE'
  /** The author may not make this change (not an admin; a leave about someone else). */
  | 'NOT_ADMIN'
  /** The envelope's sealed sender is not the update's author. */
  | 'NOT_AUTHOR'
  /** Built on an older state than ours (a replay, or a loser of a concurrent update). */
  | 'STALE'
  /** Built on a state we have not seen (an update missed in between). */
  | 'GAP'
  /** The change is not possible on this state (adding a member twice, removing a stranger, too many, a title against the display-name rule). */
  | 'INVALID'
  /** An update for a group we do not know (and no snapshot that adds us). */
  | 'UNKNOWN_GROUP';

/** What applying an update gives. */
export type ApplyResult =
  | { readonly ok: true; readonly state: GroupSnapshot; readonly replaced: boolean }
  | { readonly ok: false; readonly reason: UpdateRefusal };

const fail = (reason: UpdateRefusal): ApplyResult => ({ ok: false, reason });

/**
 * A title as an honest admin sends it (group-ops.ts checks it with the
 * display-name rule): a hostile admin's control or bidi-override characters
 * would reach every member's group list, notifications and terminal.
 */
export function admissibleTitle(title: string): boolean {
  return receivedDisplayName(title) === title;
}

/** A member card is admissible if its key derives its account id (a new key is a new account). */
function validCard(member: GroupMember): boolean {
  try {
    return (
      deriveAccountId(PublicKey.deserialize(fromBase64(member.identityKey))) === member.accountId
    );
  } catch {
    return false;
  }
}

/**
 * Applies `signed` (sealed by `sender`) to `current` (undefined: we do not
 * know the group). `previous` is the state before `current`'s last update,
 * for the tie-break: two updates built on the same state with the same
 * revision — the one with the lower hash wins, wherever it arrives first.
 */
export function applyUpdate(
  current: GroupSnapshot | undefined,
  previous: GroupSnapshot | undefined,
  signed: SignedGroupUpdate,
  sender: string,
): ApplyResult {
  const { update } = signed;
  if (update.author !== sender) return fail('NOT_AUTHOR');
  if (update.action.kind === 'create') {
    if (current) return current.head === updateHash(signed) ? fail('STALE') : fail('INVALID');
    return create(signed);
  }
  if (!current) return fail('UNKNOWN_GROUP');
  if (update.groupId !== current.groupId) return fail('INVALID');
  if (update.revision <= current.revision) {
    const competing =
      previous !== undefined &&
      update.revision === current.revision &&
      update.parent === previous.head &&
      updateHash(signed) < current.head;
    if (!competing) return fail('STALE');
    const replay = step(previous, signed);
    return replay.ok ? { ...replay, replaced: true } : replay;
  }
  if (update.revision !== current.revision + 1 || update.parent !== current.head)
    return fail('GAP');
  return step(current, signed);
}

function create(signed: SignedGroupUpdate): ApplyResult {
  const { update } = signed;
  if (update.action.kind !== 'create' || update.revision !== 0 || update.parent !== NO_PARENT)
    return fail('INVALID');
  const { members, title } = update.action;
  const author = members.find((m) => m.accountId === update.author);
  if (!author?.admin) return fail('NOT_ADMIN');
  if (!verifyUpdate(signed, author.identityKey)) return fail('BAD_SIGNATURE');
  if (
    new Set(members.map((m) => m.accountId)).size !== members.length ||
    !members.every(validCard) ||
    !admissibleTitle(title)
  )
    return fail('INVALID');
  return {
    ok: true,
    replaced: false,
    state: { groupId: update.groupId, title, revision: 0, head: updateHash(signed), members },
  };
}

/** One update on a known state whose revision and parent it matches. */
function step(state: GroupSnapshot, signed: SignedGroupUpdate): ApplyResult {
  const { update } = signed;
  const { action } = update;
  const author = state.members.find((m) => m.accountId === update.author);
  if (!author) return fail('NOT_ADMIN');
  if (!verifyUpdate(signed, author.identityKey)) return fail('BAD_SIGNATURE');
  if (action.kind !== 'leave' && !author.admin) return fail('NOT_ADMIN');
  let members = state.members;
  let title = state.title;
  switch (action.kind) {
    case 'add':
      if (members.some((m) => m.accountId === action.member.accountId)) return fail('INVALID');
      if (members.length >= MAX_GROUP_MEMBERS || !validCard(action.member)) return fail('INVALID');
      members = [...members, action.member];
      break;
    case 'remove':
      if (!members.some((m) => m.accountId === action.accountId)) return fail('INVALID');
      members = members.filter((m) => m.accountId !== action.accountId);
      break;
    case 'leave':
      members = members.filter((m) => m.accountId !== update.author);
      break;
    case 'rename':
      if (!admissibleTitle(action.title)) return fail('INVALID');
      title = action.title;
      break;
    case 'admin': {
      const target = members.find((m) => m.accountId === action.accountId);
      if (!target || target.admin) return fail('INVALID');
      members = members.map((m) => (m === target ? { ...m, admin: true } : m));
      break;
    }
    case 'create':
      return fail('INVALID');
  }
  if (members.length === 0) return fail('INVALID');
  return {
    ok: true,
    replaced: false,
    state: {
      groupId: state.groupId,
      title,
      revision: update.revision,
      head: updateHash(signed),
      members,
    },
  };
}
