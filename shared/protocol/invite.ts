import { z } from 'zod';
import { accountIdSchema } from './account-id.ts';
import { deliveryTokenSchema, relayIdSchema } from '../relay/protocol.ts';

// An invite: everything needed to add someone as a contact — where their
// mailbox is (relay address and the relay's identifier), who they are
// (account id and the identity key it derives from), the delivery token that
// lets a sender reach their mailbox, and a name.
// Text form: `sotto://invite/2#` + base64url(JSON), shareable as a link or QR
// code (docs/relay-protocol.md#invites).

const PREFIX = 'sotto://invite/2#';
/** Invites of protocol 1 (no relay id, no token): recognised only to say "ask for a new invite". */
const OUTDATED_PREFIXES = ['sotto://invite/1#'];

export const inviteSchema = z.strictObject({
  relay: z.string().min(1).max(1024),
  relayId: relayIdSchema,
  accountId: accountIdSchema,
  // 33 bytes are exactly 44 base64 characters, without padding.
  identityKey: z.string().regex(/^[A-Za-z0-9+/]{44}$/, 'an identity key is 33 bytes of base64'),
  token: deliveryTokenSchema,
  name: z.string().min(1).max(128),
});

export type Invite = z.infer<typeof inviteSchema>;

/** What parsing an invite's text found. */
export type ParsedInvite =
  | { readonly ok: true; readonly invite: Invite }
  | { readonly ok: false; readonly reason: 'outdated' | 'invalid' };

function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(
    Uint8Array.from(binary, (c) => c.charCodeAt(0)),
  );
}

/** The shareable text of an invite. */
export function formatInvite(invite: Invite): string {
  return PREFIX + toBase64Url(JSON.stringify(inviteSchema.parse(invite)));
}

/** Parses an invite's text. Checks the format only: the core checks that the key derives the id and that the relay is allowed. */
export function parseInvite(text: string): ParsedInvite {
  const trimmed = text.trim();
  if (OUTDATED_PREFIXES.some((p) => trimmed.startsWith(p)))
    return { ok: false, reason: 'outdated' };
  if (!trimmed.startsWith(PREFIX) || trimmed.length > 4096) return { ok: false, reason: 'invalid' };
  try {
    const parsed = inviteSchema.safeParse(JSON.parse(fromBase64Url(trimmed.slice(PREFIX.length))));
    return parsed.success ? { ok: true, invite: parsed.data } : { ok: false, reason: 'invalid' };
  } catch {
    return { ok: false, reason: 'invalid' };
  }
}
