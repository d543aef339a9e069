import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { formatInvite } from '../../../shared/protocol/invite.ts';
import { ownDeliveryToken } from '../contacts/tokens.ts';
import { SottoError } from '../errors.ts';
import { homeRelayId } from '../sync/home-relay-setting.ts';
import type { Profile } from './profile.ts';
import { getSetting } from './settings.ts';

/**
 * This profile's shareable invite (docs/relay-protocol.md#invites): its relay
 * and that relay's id, account id, identity key, current delivery token and
 * name. NOT_CONFIGURED until a relay is set and a first connection has pinned
 * its id (an invite without it could not be checked by whoever uses it).
 */
export function profileInvite(profile: Profile): string {
  const relay = getSetting(profile.db, 'relay');
  const relayId = homeRelayId(profile);
  if (!relay || !relayId) throw new SottoError('NOT_CONFIGURED');
  return formatInvite({
    relay,
    relayId,
    accountId: profile.account.accountId,
    identityKey: toBase64(profile.account.identity.publicKey.serialize()),
    token: toBase64(ownDeliveryToken(profile)),
    name: profile.account.displayName,
  });
}
