import { z } from 'zod';
import { accountIdSchema } from './account-id.ts';

// An invite: everything needed to add someone as a contact — where their
// mailbox is, who they are, and the identity key to pin (trust on first use).
// Text form: `sotto://invite/1#` + base64url(JSON), shareable as a link or QR code.

const PREFIX = 'sotto://invite/1#';

export const inviteSchema = z.object({
  relay: z.string().min(1).max(1024),
  accountId: accountIdSchema,
  identityKey: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/).max(64),
  name: z.string().min(1).max(128),
});

export type Invite = z.infer<typeof inviteSchema>;

function toBase64Url(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** The shareable text of an invite. */
export function formatInvite(invite: Invite): string {
  return PREFIX + toBase64Url(JSON.stringify(inviteSchema.parse(invite)));
}

/** Parses an invite's text; undefined if it is not a valid invite. */
export function parseInvite(text: string): Invite | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith(PREFIX)) return undefined;
  try {
    const parsed = inviteSchema.safeParse(JSON.parse(fromBase64Url(trimmed.slice(PREFIX.length))));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
