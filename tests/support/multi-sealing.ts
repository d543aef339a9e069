import type { PublicKey, UnidentifiedSenderMessageContent } from '@signalapp/libsignal-client';
import {
  CiphertextMessageType,
  IdentityChange,
  type IdentityKeyPair,
  IdentityKeyStore,
  KEMKeyPair,
  PreKeyBundle,
  PrivateKey,
  ProtocolAddress,
  processPreKeyBundle,
  Aci,
  SenderCertificate,
  SessionRecord,
  SessionStore,
  ServerCertificate,
  sealedSenderDecryptToUsmc,
  sealedSenderMultiRecipientEncrypt,
} from '@signalapp/libsignal-client';
import SealedSenderMultiRecipientMessage from '@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import type { AccountId } from '../../shared/protocol/account-id.ts';
import { unidentifiedContent } from '../../electron/core/messaging/usmc.ts';

// Real sealed-sender v2 messages for relay tests: a sender with real
// libsignal sessions (PQXDH from bundles the recipients made) encrypts one
// message for several recipients, as a group send does. Recipients open
// their copy with `sealedSenderDecryptToUsmc`.

export { SealedSenderMultiRecipientMessage };

function key(address: ProtocolAddress): string {
  return `${address.name()}.${address.deviceId()}`;
}

class Sessions extends SessionStore {
  private readonly records = new Map<string, Uint8Array<ArrayBuffer>>();
  override saveSession(address: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.records.set(key(address), record.serialize());
    return Promise.resolve();
  }
  override getSession(address: ProtocolAddress): Promise<SessionRecord | null> {
    const blob = this.records.get(key(address));
    return Promise.resolve(blob ? SessionRecord.deserialize(blob) : null);
  }
  override getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return Promise.all(
      addresses.map(async (address) => {
        const record = await this.getSession(address);
        if (record === null) throw new Error(`no session with ${key(address)}`);
        return record;
      }),
    );
  }
}

/** Trusts everyone; knows one own key pair. */
class Identities extends IdentityKeyStore {
  private readonly known = new Map<string, PublicKey>();
  constructor(private readonly own: IdentityKeyPair) {
    super();
  }
  override getIdentityKey(): Promise<PrivateKey> {
    return Promise.resolve(this.own.privateKey);
  }
  override getLocalRegistrationId(): Promise<number> {
    return Promise.resolve(1);
  }
  override saveIdentity(address: ProtocolAddress, publicKey: PublicKey): Promise<IdentityChange> {
    this.known.set(address.name(), publicKey);
    return Promise.resolve(IdentityChange.NewOrUnchanged);
  }
  override isTrustedIdentity(): Promise<boolean> {
    return Promise.resolve(true);
  }
  override getIdentity(address: ProtocolAddress): Promise<PublicKey | null> {
    return Promise.resolve(this.known.get(address.name()) ?? null);
  }
}

/** A recipient device as the sender sees it: account id, device, registration id, identity. */
export interface MultiTarget {
  readonly accountId: AccountId;
  readonly deviceId: number;
  readonly registrationId: number;
  readonly identity: IdentityKeyPair;
}

/** A sender holding real sessions with its targets. */
export class MultiSender {
  private readonly sessions = new Sessions();
  private readonly identities: Identities;
  private readonly certificate: SenderCertificate;

  constructor(
    identity: IdentityKeyPair,
    /** The account the sender certificate names. */
    readonly accountId: string,
  ) {
    this.identities = new Identities(identity);
    const server = ServerCertificate.new(1, identity.publicKey, identity.privateKey);
    this.certificate = SenderCertificate.new(
      accountId,
      null,
      1,
      identity.publicKey,
      Date.now() + 24 * 60 * 60 * 1000,
      server,
      identity.privateKey,
    );
  }

  /** Starts a session with a target from a bundle made with its identity (PQXDH, no one-time EC key). */
  async meet(target: MultiTarget): Promise<void> {
    const signed = PrivateKey.generate();
    const signedSig = target.identity.privateKey.sign(signed.getPublicKey().serialize());
    const kyber = KEMKeyPair.generate();
    const kyberSig = target.identity.privateKey.sign(kyber.getPublicKey().serialize());
    const bundle = PreKeyBundle.new(
      target.registrationId,
      target.deviceId,
      null,
      null,
      1,
      signed.getPublicKey(),
      signedSig,
      target.identity.publicKey,
      1,
      kyber.getPublicKey(),
      kyberSig,
    );
    const self = ProtocolAddress.new(this.certificate.senderUuid(), 1);
    await processPreKeyBundle(
      bundle,
      ProtocolAddress.new(target.accountId, target.deviceId),
      self,
      this.sessions,
      this.identities,
    );
  }

  /**
   * One SSv2 sent message for `targets` (sessions must exist). `inner` is
   * any bytes: the relay never looks inside, and the tests compare the USMC.
   */
  async seal(
    targets: readonly MultiTarget[],
    inner: Uint8Array,
    excluded: readonly string[] = [],
  ): Promise<{ body: Uint8Array<ArrayBuffer>; content: UnidentifiedSenderMessageContent }> {
    const content = unidentifiedContent(CiphertextMessageType.Whisper, inner, this.certificate, 0);
    const body = await sealedSenderMultiRecipientEncrypt({
      content,
      recipients: targets.map((t) => ProtocolAddress.new(t.accountId, t.deviceId)),
      excludedRecipients: excluded.map((id) => Aci.parseFromServiceIdString(id)),
      identityStore: this.identities,
      sessionStore: this.sessions,
    });
    return { body, content };
  }
}

/** Opens a delivered copy with the recipient's identity: the USMC inside (no certificate checks). */
export function openCopy(
  identity: IdentityKeyPair,
  copy: Uint8Array<ArrayBuffer>,
): Promise<UnidentifiedSenderMessageContent> {
  return sealedSenderDecryptToUsmc(copy, new Identities(identity));
}
