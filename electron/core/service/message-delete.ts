import type { MethodOutput } from '../../../shared/ipc/contract.ts';
import { SottoError } from '../errors.ts';
import { groupRef } from '../groups/group-store.ts';
import { deleteMessages } from '../history/delete-messages.ts';
import { contactOf } from './conversation-methods.ts';
import type { ParsedInput, ServiceParts } from './types.ts';

// `messages:delete` ("Delete for me") over the core: the conversation named
// as the window names it (a 1:1 conversation id or a group id), then every
// window learns which rows went, and the list and badge refresh (previews and
// unread counts may have changed).

/** Deletes messages of one conversation for this profile only; UNKNOWN_MESSAGE if any id is not one of its messages. */
export async function deleteForMe(
  parts: ServiceParts,
  input: ParsedInput<'messages:delete'>,
): Promise<MethodOutput<'messages:delete'>> {
  const profile = parts.open();
  let scope: { conversationId: number } | { groupRef: number };
  if ('conversationId' in input) {
    contactOf(parts, input.conversationId); // UNKNOWN_CONTACT for a conversation that does not exist
    scope = { conversationId: input.conversationId };
  } else {
    const ref = groupRef(profile.db, input.groupId);
    if (ref === undefined) throw new SottoError('UNKNOWN_GROUP');
    scope = { groupRef: ref };
  }
  const { messageIds } = await deleteMessages(profile, scope, input.messageIds);
  // Another call may have deleted them all while this one waited for a transfer to stop.
  if (messageIds.length === 0) return { messageIds };
  parts.emit(
    'messages:deleted',
    'conversationId' in input
      ? { conversationId: input.conversationId, messageIds }
      : { groupId: input.groupId, messageIds },
  );
  parts.emit('conversations:changed', {});
  parts.sync.publishStatus(profile);
  return { messageIds };
}
