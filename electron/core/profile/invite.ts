import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { formatInvite } from '../../../shared/protocol/invite.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from './profile.ts';
import { getSetting } from './settings.ts';

/** This profile's shareable invite: its relay, account id, identity key and name. */
export function profileInvite(profile: Profile): string {
  const relay = getSetting(profile.db, 'relay');
  if (!relay) throw new SottoError('NOT_CONFIGURED');
  return formatInvite({
    relay,
    accountId: profile.account.accountId,
    identityKey: toBase64(profile.account.identity.publicKey.serialize()),
    name: profile.account.displayName,
  });
}
