import {
  CiphertextMessageType,
  type IdentityKeyStore,
  type PublicKey,
  SenderCertificate,
  sealedSenderDecryptToUsmc,
  sealedSenderEncrypt,
  ServerCertificate,
} from '@signalapp/libsignal-client';
import { type AccountId, accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { deriveAccountId } from '../crypto/account-id.ts';
import type { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import type { Profile } from '../profile/profile.ts';
import { peerAddress } from './addresses.ts';
import { unidentifiedContent } from './usmc.ts';

// Sealed sender v1 with self-issued certificates (docs/message-format.md#sealed-envelopes).
// An account id is derived from its identity key, so the id-to-key binding a
// server's certificate would vouch for is self-evident: each account signs its
// own "server" certificate and sender certificate with its identity key, and
// the receiver checks the chain under the certificate's own key, that the key
// derives the claimed id, and that it is the key pinned for that contact.

/** How long a self-issued sender certificate is valid. */
export const CERTIFICATE_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/** A cached certificate with less than this left is replaced (Signal's buffer). */
export const CERTIFICATE_RENEW_MS = 60 * 60 * 1000;
/** Key id of the self-signed server certificate (any value but libsignal's revoked 0xDEADC357). */
const SELF_SIGNER_KEY_ID = 1;

const cache = new WeakMap<Profile, SenderCertificate>();

/**
 * This device's sender certificate, valid for at least another hour at `now`:
 * the cached one, or a new one (7 days) if it runs out sooner or was made for
 * a previous identity key. No network round trip: the account signs it itself.
 */
export function senderCertificate(profile: Profile, now = Date.now()): SenderCertificate {
  const { identity, accountId, deviceId } = profile.account;
  const cached = cache.get(profile);
  if (
    cached &&
    cached.expiration() - now >= CERTIFICATE_RENEW_MS &&
    cached.key().equals(identity.publicKey)
  ) {
    return cached;
  }
  const signer = ServerCertificate.new(SELF_SIGNER_KEY_ID, identity.publicKey, identity.privateKey);
  const certificate = SenderCertificate.new(
    accountId,
    null,
    deviceId,
    identity.publicKey,
    now + CERTIFICATE_LIFETIME_MS,
    signer,
    identity.privateKey,
  );
  cache.set(profile, certificate);
  return certificate;
}

/** Seals a stored Signal message for its recipient. Reads keys only: no session state changes. */
export function seal(
  profile: Profile,
  identityStore: IdentityKeyStore,
  recipient: { readonly accountId: string; readonly deviceId: number },
  message: { readonly type: number; readonly body: Uint8Array; readonly contentHint: number },
  now = Date.now(),
): Promise<Uint8Array<ArrayBuffer>> {
  const content = unidentifiedContent(
    message.type,
    message.body,
    senderCertificate(profile, now),
    message.contentHint,
  );
  return sealedSenderEncrypt(
    content,
    peerAddress(recipient.accountId, recipient.deviceId),
    identityStore,
  );
}

/** Certificates (serialized bytes, base64) whose signatures were found valid: a sender reuses one for days. */
const verifiedChains = new Map<string, true>();
const VERIFIED_CHAINS_MAX = 4096;

/**
 * True if the "server" certificate is the sender's own key, signed by itself,
 * and signs the sender certificate: `validate` at time 0 checks exactly the
 * two signatures. The answer depends only on the certificate's bytes, so valid
 * ones are remembered and the two signature checks run once per certificate,
 * not once per envelope; the expiry is checked per envelope by the caller.
 */
function chainIsSelfSigned(certificate: SenderCertificate, key: PublicKey): boolean {
  const id = Buffer.from(certificate.serialize()).toString('base64');
  if (verifiedChains.has(id)) return true;
  if (!certificate.serverCertificate().key().equals(key) || !certificate.validate(key, 0))
    return false;
  if (verifiedChains.size >= VERIFIED_CHAINS_MAX) verifiedChains.clear();
  verifiedChains.set(id, true);
  return true;
}

/** Why a sealed envelope was refused before its inner message was even looked at (content-free). */
export type UnsealFailure =
  /** Not a sealed envelope for this account, or sealed by a key other than its certificate's. */
  | 'UNSEAL_FAILED'
  /** The certificate chain is not signed by the certificate's own key. */
  | 'BAD_CERTIFICATE'
  /** The certificate had expired when the relay stored the envelope. */
  | 'CERT_EXPIRED'
  /** The key does not derive the claimed account id, or is not the key pinned for that contact. */
  | 'FORGED_SENDER'
  /** Sealed by this very device. */
  | 'SELF_SEND'
  /** Not a one-to-one PreKey or Whisper message, nor a sender-key message naming its group. */
  | 'UNKNOWN_TYPE';

/** An opened envelope: who sent it (verified) and the inner Signal message. */
export interface Unsealed {
  readonly sender: AccountId;
  readonly senderDevice: number;
  readonly senderKey: PublicKey;
  /** libsignal CiphertextMessageType: 3 PreKey, 2 Whisper. */
  readonly type: number;
  readonly body: Uint8Array<ArrayBuffer>;
  /** The group a sender-key message is for (USMC.groupId); absent for 1:1 messages. */
  readonly groupId?: Uint8Array;
}

/**
 * Opens a sealed envelope and applies the four acceptance rules, in order:
 * (1) the chain validates under the certificate's own key at `serverTime`,
 * (2) that key derives the claimed account id, (4) it is not a self-send,
 * (3) it equals the key pinned for that account, if one is pinned.
 */
export async function unseal(
  profile: Profile,
  unit: ProtocolTransaction,
  body: Uint8Array,
  serverTime: number,
): Promise<
  | { readonly ok: true; readonly value: Unsealed }
  | { readonly ok: false; readonly error: UnsealFailure }
> {
  const fail = (error: UnsealFailure) => ({ ok: false, error }) as const;
  let content;
  try {
    content = await sealedSenderDecryptToUsmc(Uint8Array.from(body), unit.identityStore);
  } catch {
    return fail('UNSEAL_FAILED');
  }
  const certificate = content.senderCertificate();
  const key = certificate.key();
  if (!chainIsSelfSigned(certificate, key)) return fail('BAD_CERTIFICATE');
  // libsignal's rule (`validate`): valid while the time is at most the expiration.
  if (serverTime > certificate.expiration()) return fail('CERT_EXPIRED');
  const claimed = accountIdSchema.safeParse(certificate.senderUuid());
  if (!claimed.success || deriveAccountId(key) !== claimed.data) return fail('FORGED_SENDER');
  const sender = claimed.data;
  const senderDevice = certificate.senderDeviceId();
  if (sender === profile.account.accountId && senderDevice === profile.account.deviceId)
    return fail('SELF_SEND');
  const pinned = unit.identity(sender);
  if (pinned && !Buffer.from(pinned.publicKey).equals(Buffer.from(key.serialize())))
    return fail('FORGED_SENDER');
  // A sender-key message always names its group, and only a sender-key message does (docs/message-format.md#groups).
  const groupId = content.groupId();
  const isGroup = content.msgType() === (CiphertextMessageType.SenderKey as number);
  if ((groupId !== null) !== isGroup || (groupId !== null && groupId.length !== 32))
    return fail('UNKNOWN_TYPE');
  return {
    ok: true,
    value: {
      sender,
      senderDevice,
      senderKey: key,
      type: content.msgType(),
      body: content.contents(),
      ...(groupId !== null ? { groupId } : {}),
    },
  };
}
