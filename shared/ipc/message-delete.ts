import { z } from 'zod';
import { MAX_DELETE_MESSAGES } from '../message-delete.ts';
import { groupId, id } from './fields.ts';

// "Delete for me" over IPC (docs/ipc.md#deleting-messages), spread into the
// contract's tables. Local only: nothing reaches the other side.

/** 1 to MAX_DELETE_MESSAGES distinct message ids. */
const messageIds = z
  .array(id)
  .min(1)
  .max(MAX_DELETE_MESSAGES)
  .refine((ids) => new Set(ids).size === ids.length, 'repeated message id');

/** The conversation (1:1 by id, or a group) and which of its messages. */
const deletion = z.union([
  z.object({ conversationId: id, messageIds }).strict(),
  z.object({ groupId, messageIds }).strict(),
]);

/** The delete method: UNKNOWN_MESSAGE (nothing deleted) if any id is not a message of that conversation. */
export const messageDeleteMethods = {
  'messages:delete': {
    input: deletion,
    output: z.object({ messageIds: z.array(id) }).strict(),
  },
} as const;

/** Every window showing the conversation drops the rows (and their previews). */
export const messageDeleteEvents = {
  'messages:deleted': deletion,
} as const;
