import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import { parseInvite } from '../../../shared/protocol/invite.ts';
import { SottoError } from '../errors.ts';
import { receivedDisplayName } from '../profile/display-name.ts';
import type { Profile } from '../profile/profile.ts';
import { assertInviteRelayAllowed } from '../sync/relay-address.ts';
import { type Contact, addContact } from './contacts.ts';

/**
 * Adds a contact from an invite's text (docs/relay-protocol.md#invites), for
 * the CLI and the app alike. Refused, with nothing stored: an invite of
 * protocol 1 (INVITE_OUTDATED), anything malformed (INVALID_INVITE), a key
 * that does not derive the account id (IDENTITY_MISMATCH), a relay address
 * an invite may not name (RELAY_ADDRESS_REFUSED: sync/relay-address.ts), a
 * name that breaks the display-name rule (INVALID_INVITE: a Sotto invite
 * never carries one; it would put control or bidi-override characters in
 * the contact list and the CLI).
 * `name` is the user's own name for them (default: the invite's).
 */
export function addContactFromInvite(
  profile: Profile,
  text: string,
  name?: string,
  now = Date.now(),
): Contact {
  const parsed = parseInvite(text);
  if (!parsed.ok)
    throw new SottoError(parsed.reason === 'outdated' ? 'INVITE_OUTDATED' : 'INVALID_INVITE');
  const { invite } = parsed;
  const inviteName = receivedDisplayName(invite.name);
  if (inviteName === undefined) throw new SottoError('INVALID_INVITE', 'name');
  // Before anything is stored or any path or socket is touched.
  const relay = assertInviteRelayAllowed(profile, invite.relay);
  return addContact(
    profile,
    {
      accountId: invite.accountId,
      identityKey: fromBase64(invite.identityKey),
      displayName: name ?? inviteName,
      relay,
      relayId: invite.relayId,
      token: fromBase64(invite.token),
    },
    now,
  );
}
