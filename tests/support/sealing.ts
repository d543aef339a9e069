import {
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  type PrivateKey,
  ProtocolAddress,
  PublicKey,
  SenderCertificate,
  sealedSenderEncrypt,
  ServerCertificate,
  SignalMessage,
} from '@signalapp/libsignal-client';
import type { IncomingEnvelope, OutgoingEnvelope, Profile } from '../../electron/core/index.ts';
import { unidentifiedContent } from '../../electron/core/messaging/usmc.ts';

// Hand-made sealed envelopes for hostile tests: any certificate, any claimed
// sender, sealed by any key to any recipient. What an attacker can build with
// libsignal and its own keys.

/** Knows one identity (the sealing key) and one peer key; enough for sealedSenderEncrypt. */
class OneIdentityStore extends IdentityKeyStore {
  constructor(
    private readonly own: IdentityKeyPair,
    private readonly peer: PublicKey,
  ) {
    super();
  }
  override getIdentityKey(): Promise<PrivateKey> {
    return Promise.resolve(this.own.privateKey);
  }
  override getLocalRegistrationId(): Promise<number> {
    return Promise.resolve(1);
  }
  override saveIdentity(): Promise<IdentityChange> {
    return Promise.resolve(IdentityChange.NewOrUnchanged);
  }
  override isTrustedIdentity(): Promise<boolean> {
    return Promise.resolve(true);
  }
  override getIdentity(): Promise<PublicKey | null> {
    return Promise.resolve(this.peer);
  }
}

/** What the certificate says, and who signs what. Defaults: an honest certificate of `sealer`. */
export interface ForgedCertificate {
  /** The claimed sender (`senderUuid`). */
  readonly claim: string;
  readonly device?: number;
  /** The key the certificate names (must be the sealing key, or the seal will not open). */
  readonly key: PublicKey;
  /** Signs the "server" certificate. */
  readonly rootSigner: PrivateKey;
  /** The server certificate's key (which signs the sender certificate). */
  readonly serverKey: { readonly publicKey: PublicKey; readonly privateKey: PrivateKey };
  readonly expiration: number;
}

/** An honest self-issued certificate description for `identity` claiming `accountId`. */
export function honestCertificate(identity: IdentityKeyPair, accountId: string): ForgedCertificate {
  return {
    claim: accountId,
    key: identity.publicKey,
    rootSigner: identity.privateKey,
    serverKey: { publicKey: identity.publicKey, privateKey: identity.privateKey },
    expiration: Date.now() + 24 * 60 * 60 * 1000,
  };
}

/**
 * Seals an inner Signal message (from `inner`) for `recipient` with the
 * described certificate, sealed by `sealer`'s identity key.
 */
export async function sealWith(
  sealer: IdentityKeyPair,
  recipient: Profile,
  inner: Pick<OutgoingEnvelope, 'type' | 'body'>,
  cert: ForgedCertificate,
): Promise<Uint8Array<ArrayBuffer>> {
  const server = ServerCertificate.new(1, cert.serverKey.publicKey, cert.rootSigner);
  const certificate = SenderCertificate.new(
    cert.claim,
    null,
    cert.device ?? 1,
    cert.key,
    cert.expiration,
    server,
    cert.serverKey.privateKey,
  );
  const content = unidentifiedContent(inner.type, inner.body, certificate, 0);
  const store = new OneIdentityStore(sealer, recipient.account.identity.publicKey);
  return sealedSenderEncrypt(
    content,
    ProtocolAddress.new(recipient.account.accountId, recipient.account.deviceId),
    store,
  );
}

let counter = 0;

/** A relay's delivery of `body`, stored at `serverTime`. */
export function delivered(body: Uint8Array, serverTime = Date.now()): IncomingEnvelope {
  counter += 1;
  return { id: `forged-${counter}-${Date.now()}`, body, serverTime };
}

export { PublicKey };

/**
 * A genuine seal from `from` around a Whisper message `to` holds no session
 * for: it unseals, then fails to decrypt (DECRYPT_FAILED). `n` varies the
 * message so many of them differ.
 */
export async function undecryptableSeal(from: Profile, to: Profile, n = 0): Promise<Uint8Array> {
  const message = SignalMessage._new(
    4,
    new Uint8Array(32).fill(n % 256),
    IdentityKeyPair.generate().publicKey,
    0,
    n,
    new Uint8Array(32),
    from.account.identity.publicKey,
    to.account.identity.publicKey,
    new Uint8Array(0),
  );
  return await sealWith(
    from.account.identity,
    to,
    { type: 2, body: message.serialize() },
    honestCertificate(from.account.identity, from.account.accountId),
  );
}
