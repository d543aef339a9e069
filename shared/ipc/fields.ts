import { z } from 'zod';

// Field schemas the contract's method tables share (account.ts, contacts.ts,
// conversations.ts, messages.ts, backup.ts): a row id, the empty input of a
// method without arguments, a passphrase, a conversation to act on.

/** A row id (message, conversation): a positive integer. */
export const id = z.number().int().positive();

/** The input of a method without arguments: `{}` and nothing else. */
export const none = z.object({}).strict();

/** A passphrase as the user typed it (its strength is the core's check): 1 to 1024 characters. */
export const passphrase = z.string().min(1).max(1024);

/** The input of a method on one conversation. */
export const inConversation = z.object({ conversationId: id }).strict();
