import { deleteMessages, findContact, SottoError } from '../../core/index.ts';
import { type GlobalOptions, print, withProfile } from '../context.ts';
import { contactOrGroup } from './messages.ts';

// What `delete` does (the definition is commands/messages.ts): "Delete for
// me", local only. Nothing is sent: the other side keeps its copy.

/** A message id as typed: digits only (no signs, exponents or fractions that Number() would accept). */
function messageId(text: string): number {
  const id = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id))
    throw new SottoError('INVALID_INPUT', 'a message id is a positive integer');
  return id;
}

/**
 * `delete CONTACT|GROUP ID...`: deletes those messages of that conversation
 * with their files, all or none (UNKNOWN_MESSAGE if one is not its message).
 */
export function deleteForMe(g: GlobalOptions, name: string, ids: readonly string[]): Promise<void> {
  const messageIds = ids.map(messageId);
  return withProfile(g, async (profile) => {
    const group = await contactOrGroup(profile, name);
    const scope = group
      ? { groupRef: group.ref }
      : { conversationId: findContact(profile.db, name).conversationId };
    const deleted = await deleteMessages(profile, scope, messageIds);
    print(g, deleted, () => `Deleted ${deleted.messageIds.length} message(s) on this device.`);
  });
}
