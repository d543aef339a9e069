import { ProtocolAddress } from '@signalapp/libsignal-client';
import type { Profile } from '../profile/profile.ts';

/** libsignal's address for a peer device. */
export function peerAddress(accountId: string, deviceId: number): ProtocolAddress {
  return ProtocolAddress.new(accountId, deviceId);
}

/** libsignal's address for this device. */
export function localAddress(profile: Profile): ProtocolAddress {
  return ProtocolAddress.new(profile.account.accountId, profile.account.deviceId);
}
