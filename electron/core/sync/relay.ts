import type { PreKeyBundleData, PublishedKeys } from '../../../shared/protocol/keys.ts';
import type { IncomingEnvelope } from '../messaging/receive.ts';

/** An envelope handed to a relay for one recipient device. */
export interface RelaySubmission {
  readonly clientMessageId: string;
  readonly recipient: string;
  readonly recipientDevice: number;
  /** libsignal CiphertextMessageType: 3 PreKey, 2 Whisper. */
  readonly type: 2 | 3;
  readonly body: Uint8Array;
}

/** What a relay says about itself. */
export interface RelayHealth {
  readonly reachable: boolean;
  /** Envelopes waiting in this device's mailbox, when the relay knows. */
  readonly queued?: number;
}

/**
 * The core's view of a relay: a key directory and a mailbox. Implementations:
 * the WebSocket relay client and the folder relay. Both pass
 * tests/integration/sync/relay-contract.test.ts. Failures are SottoErrors:
 * RELAY_UNAVAILABLE (try again later) or RELAY_REFUSED (the relay said no).
 */
export interface Relay {
  /** Where this relay is (a ws:// URL or a folder path). */
  readonly address: string;
  /** Publishes this device's keys; one-time keys are added, the rest replaced. */
  publishKeys(keys: PublishedKeys): Promise<void>;
  /** A prekey bundle for a peer device, consuming one of its one-time keys. */
  fetchBundle(accountId: string, deviceId?: number): Promise<PreKeyBundleData>;
  /** Stores an envelope durably; resubmitting the same clientMessageId is harmless (R4). */
  send(submission: RelaySubmission): Promise<void>;
  /**
   * Stores several envelopes (one durable commit per request where the relay
   * supports it). One result per submission, in order: `undefined` when
   * stored, else the RELAY_ERR_* code of that submission's refusal.
   */
  sendBatch(submissions: readonly RelaySubmission[]): Promise<(string | undefined)[]>;
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
  close(): Promise<void>;
}

/** Who this device is, for relays that authenticate. */
export interface RelayIdentity {
  readonly accountId: string;
  readonly deviceId: number;
  /** Signs the relay's challenge with the identity private key. */
  sign(message: Uint8Array<ArrayBuffer>): Uint8Array;
  readonly identityKey: Uint8Array;
}
