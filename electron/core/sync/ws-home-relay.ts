import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import type { PreKeyBundleData, PublishedKeys } from '../../../shared/protocol/keys.ts';
import {
  type MoveNotice,
  RELAY_LIMITS,
  type WireEnvelope,
} from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import type { BlobUpload } from './blobs.ts';
import { RelayUnavailableError } from './relay-failure.ts';
import type {
  BundleRequest,
  HomeRelay,
  IncomingEnvelope,
  KeyStatus,
  MultiSubmission,
  RelayHealth,
  RelayIdentity,
  SealedSubmission,
} from './relay.ts';
import { RelayConnection, type RelayIdPin, type RelayRequest } from './ws-connection.ts';
import { LazyConnection } from './ws-lazy-connection.ts';
import { WebSocketRelay, type WebSocketRelayOptions } from './ws-relay.ts';

// This device's own `sotto-relay` (docs/relay-protocol.md#account-connection-frames):
// an account connection that logs in with the identity key, for the mailbox,
// keys and token; and, like every other relay, a separate anonymous
// connection for bundles and sealed sends, so that what this device sends is
// never tied to its login. The login is sent only after the challenge's relay
// id matched the pinned one (or was just pinned at the first connection).

/** The home relay over WebSocket. */
export class WebSocketHomeRelay implements HomeRelay {
  private readonly anonymous: WebSocketRelay;
  private readonly connection: LazyConnection;
  private inbox: IncomingEnvelope[] = [];
  private readonly inboxIds = new Set<string>();
  private wake: ((lost: boolean) => void) | undefined;
  private readonly keysLowListeners: (() => void)[] = [];

  constructor(
    readonly address: string,
    identity: RelayIdentity,
    pin: RelayIdPin,
    options: WebSocketRelayOptions = {},
  ) {
    this.anonymous = new WebSocketRelay(address, pin, options);
    this.connection = new LazyConnection(() =>
      RelayConnection.connect(
        address,
        { mode: 'account', identity },
        pin,
        {
          onEnvelopes: (envelopes) => this.pushed(envelopes),
          onKeysLow: () => {
            for (const listener of this.keysLowListeners) listener();
          },
          onClose: () => this.lost(),
        },
        options,
      ),
    );
  }

  fetchBundle(request: BundleRequest): Promise<PreKeyBundleData> {
    return this.anonymous.fetchBundle(request);
  }

  sendBatch(submissions: readonly SealedSubmission[]): Promise<(string | undefined)[]> {
    return this.anonymous.sendBatch(submissions);
  }

  sendMulti(submission: MultiSubmission): Promise<Map<AccountId, string | undefined>> {
    return this.anonymous.sendMulti(submission);
  }

  /** Publishes in frames of at most 50 one-time keys of each kind; every frame repeats the signed keys. */
  async publishKeys(keys: PublishedKeys): Promise<void> {
    const per = RELAY_LIMITS.maxOneTimeKeysPerPublish;
    const frames = Math.max(
      1,
      Math.ceil(Math.max(keys.oneTimePreKeys.length, keys.oneTimeKyberPreKeys.length) / per),
    );
    for (let i = 0; i < frames; i++) {
      await this.request({
        type: 'keys.publish',
        keys: {
          ...keys,
          oneTimePreKeys: keys.oneTimePreKeys.slice(i * per, (i + 1) * per),
          oneTimeKyberPreKeys: keys.oneTimeKyberPreKeys.slice(i * per, (i + 1) * per),
        },
      });
    }
  }

  async keyStatus(): Promise<KeyStatus> {
    const frame = await this.request({ type: 'keys.status' });
    if (frame.type !== 'keys.status') throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
    const { preKeyIds, kyberPreKeyIds, signedPreKeyId, lastResortKyberPreKeyId } = frame;
    return { preKeyIds, kyberPreKeyIds, signedPreKeyId, lastResortKyberPreKeyId };
  }

  async registerToken(token: Uint8Array): Promise<void> {
    await this.request({ type: 'token.set', token: toBase64(token) });
  }

  /** Reserves a blob upload of exactly `length` bytes (blob.create, docs/relay-protocol.md#blobs). */
  async createBlob(length: number): Promise<BlobUpload> {
    const frame = await this.request({ type: 'blob.create', length });
    if (frame.type !== 'blob.created') throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
    const { blobId, uploadToken, expiresAt } = frame;
    return { blobId, uploadToken, length, expiresAt };
  }

  async moveAccount(notice: MoveNotice): Promise<void> {
    await this.request({ type: 'account.move', notice });
  }

  async receive(max: number, waitMs: number): Promise<IncomingEnvelope[]> {
    const connection = await this.open();
    if (this.inbox.length === 0 && waitMs > 0) {
      const lost = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), waitMs);
        this.wake = (connectionLost) => {
          clearTimeout(timer);
          resolve(connectionLost);
        };
      });
      this.wake = undefined;
      // The relay pushes again on the next connection; report the loss so the caller reconnects.
      if (lost || !connection.alive) throw new RelayUnavailableError('connection lost');
    }
    const batch = this.inbox.splice(0, max);
    for (const envelope of batch) this.inboxIds.delete(envelope.id);
    return batch;
  }

  async ack(envelopeIds: readonly string[]): Promise<void> {
    for (let i = 0; i < envelopeIds.length; i += RELAY_LIMITS.maxAckIds) {
      await this.request({
        type: 'ack',
        envelopeIds: envelopeIds.slice(i, i + RELAY_LIMITS.maxAckIds),
      });
    }
  }

  async health(): Promise<RelayHealth> {
    try {
      const connection = await this.open();
      await connection.request({ type: 'ping' });
      return { reachable: true, queued: Math.max(connection.queued, this.inbox.length) };
    } catch {
      return { reachable: false };
    }
  }

  onKeysLow(listener: () => void): void {
    this.keysLowListeners.push(listener);
  }

  async close(): Promise<void> {
    await Promise.all([this.connection.close(), this.anonymous.close()]);
  }

  private async request(frame: RelayRequest) {
    return (await this.open()).request(frame);
  }

  private open(): Promise<RelayConnection> {
    return this.connection.open();
  }

  private pushed(envelopes: readonly WireEnvelope[]): void {
    for (const envelope of envelopes) {
      if (this.inboxIds.has(envelope.id)) continue;
      this.inboxIds.add(envelope.id);
      this.inbox.push({
        id: envelope.id,
        body: fromBase64(envelope.body),
        serverTime: envelope.serverTime,
      });
    }
    this.wake?.(false);
  }

  private lost(): void {
    this.connection.lost();
    // Unacked envelopes will be pushed again on the next connection.
    this.inbox = [];
    this.inboxIds.clear();
    this.wake?.(true);
  }
}
