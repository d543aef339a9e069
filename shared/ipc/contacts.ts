import { z } from 'zod';
import { accountIdSchema } from '../protocol/account-id.ts';
import { id, inConversation, none } from './fields.ts';

// The IPC methods of contacts (docs/ipc.md), spread into the contract's
// method table: adding one from an invite, the safety number, trust, blocking.
// A contact is named by its conversation id, as everywhere in the contract.

export const contactSchema = z.object({
  accountId: accountIdSchema,
  displayName: z.string().nullable(),
  conversationId: id,
  trust: z.enum(['trusted', 'changed', 'unknown']),
  verified: z.boolean(),
  /** Blocked: their delivery token was rotated away and nothing is sent to them. */
  blocked: z.boolean(),
});
export type Contact = z.infer<typeof contactSchema>;

/** The contact methods: add from an invite, list, safety number, verify, accept a new identity, block. */
export const contactMethods = {
  'contacts:add': {
    input: z.object({ invite: z.string().trim().min(1).max(4096) }).strict(),
    output: contactSchema,
  },
  'contacts:list': { input: none, output: z.array(contactSchema) },
  'contacts:safety-number': {
    input: inConversation,
    output: z.object({ digits: z.string().regex(/^\d{60}$/), scannable: z.string() }),
  },
  'contacts:verify': { input: inConversation, output: contactSchema },
  'contacts:accept-identity': { input: inConversation, output: contactSchema },
  /** Rotates this account's delivery token and re-shares it with every other contact: the blocked one can no longer write. */
  'contacts:block': { input: inConversation, output: contactSchema },
  'contacts:unblock': { input: inConversation, output: contactSchema },
} as const;
