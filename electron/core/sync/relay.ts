import type { AccountId } from '../../../shared/protocol/account-id.ts';
import type { PreKeyBundleData, PublishedKeys } from '../../../shared/protocol/keys.ts';
import type { MoveNotice } from '../../../shared/relay/protocol.ts';

// The core's view of relays, protocol 2 (docs/relay-protocol.md). A device
// talks to relays in two roles, and the types keep them apart:
//
// - `HomeRelay`: its own relay, where it logs in with its identity key (the
//   login names the relay, so it is worthless anywhere else) to read its
//   mailbox, publish its keys and register its delivery token.
// - `Relay`: any relay, its own included, used without identity: sealed
//   envelopes and bundle fetches, each authorized by the recipient's delivery
//   token. Nothing sent this way names the sender.
//
// Implementations: the WebSocket relay client and the folder relay; both pass
// tests/integration/sync/relay-contract.test.ts. Failures are SottoErrors:
// RELAY_UNAVAILABLE (try again later: unreachable, over budget, out of
// storage) or RELAY_REFUSED (the relay said no; the RELAY_ERR_* code is the detail).

/** A sealed envelope handed to a relay for one recipient device. */
export interface SealedSubmission {
  /** Random per envelope (R4: resubmitting the same one is harmless). */
  readonly clientMessageId: string;
  readonly recipient: AccountId;
  readonly recipientDevice: number;
  /** The recipient's delivery token (16 bytes). */
  readonly token: Uint8Array;
  /** A sealed-sender message (docs/message-format.md#sealed-envelopes). */
  readonly body: Uint8Array;
}

/**
 * One sealed-sender v2 message for several recipients of the same relay
 * (group messages: docs/relay-protocol.md#multi-recipient-sends). The relay
 * stores one copy per listed device, in one commit, and learns only the
 * recipient set of this send.
 */
export interface MultiSubmission {
  /** Random per send (R4): resubmitting is idempotent per mailbox. */
  readonly clientMessageId: string;
  /** `sealedSenderMultiRecipientEncrypt` output naming exactly the recipients below. */
  readonly body: Uint8Array;
  /** Each recipient account with its delivery token. */
  readonly recipients: readonly MultiRecipient[];
}

/** A recipient of a multi-recipient send and the token that authorizes it. */
export interface MultiRecipient {
  readonly accountId: AccountId;
  readonly token: Uint8Array;
}

/** Who a bundle is fetched for, and the token that authorizes it. */
export interface BundleRequest {
  readonly accountId: AccountId;
  readonly deviceId: number;
  readonly token: Uint8Array;
}

/** An envelope as the home relay delivers it: opaque, without sender. */
export interface IncomingEnvelope {
  /** The relay's id for this envelope (dedupe key, R3). */
  readonly id: string;
  /** A sealed-sender message. */
  readonly body: Uint8Array;
  /** When the relay committed it (ms); sender certificates are checked at this time. */
  readonly serverTime: number;
}

/** What a relay says about itself. */
export interface RelayHealth {
  readonly reachable: boolean;
  /** Envelopes waiting in this device's mailbox, when the relay knows. */
  readonly queued?: number;
}

/** One-time key ids the home relay still holds (not yet handed out). */
export interface KeyStatus {
  readonly preKeyIds: readonly number[];
  readonly kyberPreKeyIds: readonly number[];
  readonly signedPreKeyId: number | null;
  readonly lastResortKyberPreKeyId: number | null;
}

/** Any relay, used without identity. */
export interface Relay {
  /** Where this relay is (a ws:// or wss:// URL, or a folder path). */
  readonly address: string;
  /**
   * A prekey bundle for a peer device, consuming one of its one-time keys.
   * RELAY_REFUSED with RELAY_ERR_BAD_TOKEN for a wrong token or unknown account.
   */
  fetchBundle(request: BundleRequest): Promise<PreKeyBundleData>;
  /**
   * Stores sealed envelopes (one durable commit per request where the relay
   * supports it). One result per submission, in order: `undefined` when
   * stored (or recognised as a resubmit), else the RELAY_ERR_* code of that
   * submission's refusal, or UNSENT (relay-failure.ts) when the connection
   * failed after earlier frames of the batch were stored. Rejects (nothing
   * stored) when the first frame fails.
   */
  sendBatch(submissions: readonly SealedSubmission[]): Promise<(string | undefined)[]>;
  /**
   * Stores a multi-recipient sealed message for every recipient whose token
   * is right, in one commit. One result per recipient account: `undefined`
   * when stored (or recognised as a resubmit), else the RELAY_ERR_* code of
   * its refusal (BAD_TOKEN, MAILBOX_FULL, ...), or UNSENT (relay-failure.ts)
   * when a send split into several frames lost its connection after earlier
   * frames were stored. Rejects (nothing stored) when the whole send fails
   * (unreachable, malformed, over budget).
   */
  sendMulti(submission: MultiSubmission): Promise<Map<AccountId, string | undefined>>;
  close(): Promise<void>;
}

/** This device's own relay: everything a `Relay` does, plus the identity login's mailbox and keys. */
export interface HomeRelay extends Relay {
  /** Publishes this device's keys; one-time keys are added, the rest replaced. */
  publishKeys(keys: PublishedKeys): Promise<void>;
  /** Which of this device's one-time keys the relay still holds. */
  keyStatus(): Promise<KeyStatus>;
  /** Registers this account's delivery token (replacing the previous one: the old one stops working). */
  registerToken(token: Uint8Array): Promise<void>;
  /** Tells the relay this account replaces `notice.from` (the notice is signed by the old key). */
  moveAccount(notice: MoveNotice): Promise<void>;
  /**
   * Envelopes waiting for this device (at most `max`), waiting up to `waitMs`
   * for the first one. Returns [] when none came. Envelopes stay on the relay
   * until acked and may be returned again after a reconnect.
   */
  receive(max: number, waitMs: number): Promise<IncomingEnvelope[]>;
  /** Deletes envelopes this device has durably processed (R1). */
  ack(envelopeIds: readonly string[]): Promise<void>;
  /** Reachability and queue size. */
  health(): Promise<RelayHealth>;
  /** Called when the relay says this device's one-time keys are running out. */
  onKeysLow(listener: () => void): void;
}

/** Who this device is, for its home relay's login. */
export interface RelayIdentity {
  readonly accountId: AccountId;
  readonly deviceId: number;
  /** Signs the login message with the identity private key. */
  sign(message: Uint8Array<ArrayBuffer>): Uint8Array;
  readonly identityKey: Uint8Array;
}
