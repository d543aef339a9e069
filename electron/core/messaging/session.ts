import {
  KEMPublicKey,
  PreKeyBundle,
  processPreKeyBundle,
  PublicKey,
} from '@signalapp/libsignal-client';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import type { PreKeyBundleData } from '../../../shared/protocol/keys.ts';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import { SottoError } from '../errors.ts';
import { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import type { Profile } from '../profile/profile.ts';
import { localAddress, peerAddress } from './addresses.ts';

/** Builds libsignal's bundle from its wire form; malformed keys are INVALID_INPUT. */
export function toPreKeyBundle(data: PreKeyBundleData): PreKeyBundle {
  try {
    return PreKeyBundle.new(
      data.registrationId,
      data.deviceId,
      data.preKey?.id ?? null,
      data.preKey ? PublicKey.deserialize(fromBase64(data.preKey.publicKey)) : null,
      data.signedPreKey.id,
      PublicKey.deserialize(fromBase64(data.signedPreKey.publicKey)),
      fromBase64(data.signedPreKey.signature),
      PublicKey.deserialize(fromBase64(data.identityKey)),
      data.kyberPreKey.id,
      KEMPublicKey.deserialize(fromBase64(data.kyberPreKey.publicKey)),
      fromBase64(data.kyberPreKey.signature),
    );
  } catch (error) {
    throw new SottoError('INVALID_INPUT', 'prekey bundle', { cause: error });
  }
}

/** True if we already have a usable session with that device. */
export function hasSession(profile: Profile, accountId: string, deviceId: number): boolean {
  return profile.state.getSession(`${accountId}.${deviceId}`)?.hasCurrentState() ?? false;
}

/**
 * Starts a session from a fetched prekey bundle (X3DH + PQXDH). The bundle
 * must be for the account asked for (RELAY_REFUSED: the directory is lying or
 * broken), and its identity key must derive that account id and equal the key
 * pinned for it (IDENTITY_MISMATCH, counted): an account id is its key, so
 * another key is a forgery, never an identity change. A refused bundle
 * records nothing else. A contact whose move to a new account is unaccepted
 * gets no new session (IDENTITY_CHANGED).
 */
export function startSession(
  profile: Profile,
  data: PreKeyBundleData,
  expected: AccountId,
): Promise<void> {
  if (data.accountId !== expected) {
    return Promise.reject(new SottoError('RELAY_REFUSED', 'bundle for another account'));
  }
  return profile.exclusive(() => buildSession(profile, data));
}

async function buildSession(profile: Profile, data: PreKeyBundleData): Promise<void> {
  const bundle = toPreKeyBundle(data);
  const tx = new ProtocolTransaction(profile.state);
  if (!tx.accepts(data.accountId, bundle.identityKey().serialize())) {
    const count = new ProtocolTransaction(profile.state);
    count.refuse('identity.forged');
    profile.commit(count, () => undefined);
    throw new SottoError('IDENTITY_MISMATCH');
  }
  if (tx.identity(data.accountId)?.trust === 'changed') throw new SottoError('IDENTITY_CHANGED');
  try {
    await processPreKeyBundle(
      bundle,
      peerAddress(data.accountId, data.deviceId),
      localAddress(profile),
      tx.sessionStore,
      tx.identityStore,
    );
  } catch (error) {
    throw new SottoError('INVALID_INPUT', 'bundle rejected', { cause: error });
  }
  profile.commit(tx, () => undefined);
}
