import { z } from 'zod';

// Field schemas the contract's method tables share (account.ts, contacts.ts,
// conversations.ts, messages.ts, backup.ts, groups.ts, attachments.ts,
// message-delete.ts): a row id, a group id, the empty input of a method
// without arguments, a passphrase, a conversation to act on.

/** A row id (message, conversation): a positive integer. */
export const id = z.number().int().positive();

/** A group id: 32 bytes in padded base64. */
export const groupId = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a group id is 32 bytes of base64');

/** The input of a method without arguments: `{}` and nothing else. */
export const none = z.object({}).strict();

/** A passphrase as the user typed it (its strength is the core's check): 1 to 1024 characters. */
export const passphrase = z.string().min(1).max(1024);

/** The input of a method on one conversation. */
export const inConversation = z.object({ conversationId: id }).strict();
