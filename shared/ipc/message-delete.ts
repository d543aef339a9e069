import { z } from 'zod';
import { MAX_DELETE_MESSAGES } from '../message-delete.ts';

// "Delete for me" over IPC (docs/ipc.md#deleting-messages), spread into the
// contract's tables. Local only: nothing reaches the other side.

const id = z.number().int().positive();
const groupId = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a group id is 32 bytes of base64');

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
