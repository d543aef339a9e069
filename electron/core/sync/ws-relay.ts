import { type PreKeyBundleData } from '../../../shared/protocol/keys.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  RELAY_LIMITS,
  type SealedSubmission as WireSubmission,
} from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import { LazyConnection } from './ws-lazy-connection.ts';
import { UNSENT } from './relay-failure.ts';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { planMultiFrames } from './multi-frames.ts';
import type { BundleRequest, MultiSubmission, Relay, SealedSubmission } from './relay.ts';
import {
  RelayConnection,
  type RelayConnectionOptions,
  type RelayIdPin,
  type RelayRequest,
} from './ws-connection.ts';

// Any relay, used without identity (docs/relay-protocol.md#anonymous-connection-frames):
// sealed envelopes and bundle fetches over an anonymous connection, each
// authorized by the recipient's delivery token. Nothing sent here names this
// device, and no login is ever sent on it.

/** Timeouts of the WebSocket relay clients. */
export type WebSocketRelayOptions = RelayConnectionOptions;

/** Room a send.batch frame keeps for its own members (type, id, brackets). */
const FRAME_OVERHEAD = 256;

/** Client of a `sotto-relay` server's anonymous side; connects lazily and reconnects after a loss. */
export class WebSocketRelay implements Relay {
  private readonly connection: LazyConnection;

  constructor(
    readonly address: string,
    pin: RelayIdPin,
    options: WebSocketRelayOptions = {},
  ) {
    this.connection = new LazyConnection(() =>
      RelayConnection.connect(address, { mode: 'anonymous' }, pin, {}, options),
    );
  }

  async fetchBundle(request: BundleRequest): Promise<PreKeyBundleData> {
    const frame = await this.request({
      type: 'keys.fetch',
      accountId: request.accountId,
      deviceId: request.deviceId,
      token: toBase64(request.token),
    });
    if (frame.type !== 'bundle') throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
    if (
      frame.bundle.accountId !== request.accountId ||
      frame.bundle.deviceId !== request.deviceId
    ) {
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED'); // a bundle for someone else
    }
    return frame.bundle;
  }

  async sendBatch(submissions: readonly SealedSubmission[]): Promise<(string | undefined)[]> {
    const results: (string | undefined)[] = [];
    const wire = submissions.map(toWire);
    for (const chunk of chunkForFrames(wire)) {
      if (chunk.tooLarge) {
        results.push('RELAY_ERR_TOO_LARGE'); // the relay would refuse it; a frame cannot even carry it
        continue;
      }
      let frame;
      try {
        frame = await this.request({ type: 'send.batch', envelopes: chunk.envelopes });
      } catch (error) {
        // Nothing stored yet: the caller sees the failure. Otherwise report what was stored.
        if (results.every((r) => r === 'RELAY_ERR_TOO_LARGE')) throw error;
        while (results.length < submissions.length) results.push(UNSENT);
        return results;
      }
      if (frame.type !== 'sent' || frame.results.length !== chunk.envelopes.length) {
        throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
      }
      for (const result of frame.results)
        results.push('error' in result ? result.error : undefined);
    }
    return results;
  }

  /**
   * One send.multi frame, or several when the recipients or the frame size
   * demand it (multi-frames.ts). Rejects when the first frame fails; a later
   * frame's failure is reported for its recipients (the relay's code, or
   * UNSENT when the connection failed) and the stored ones stay stored.
   */
  async sendMulti(submission: MultiSubmission): Promise<Map<AccountId, string | undefined>> {
    const results = new Map<AccountId, string | undefined>();
    // Nobody on this relay (every member of the group elsewhere): nothing to send.
    if (submission.recipients.length === 0) return results;
    let answered = false;
    const plans = planMultiFrames(submission);
    for (const [index, plan] of plans.entries()) {
      if ('tooLarge' in plan) {
        results.set(plan.tooLarge.accountId, 'RELAY_ERR_TOO_LARGE');
        continue;
      }
      let frame;
      try {
        frame = await this.request({
          type: 'send.multi',
          clientMessageId: submission.clientMessageId,
          body: plan.body,
          recipients: plan.recipients,
        });
      } catch (error) {
        if (!answered) throw error;
        if (error instanceof SottoError && error.detail?.startsWith('RELAY_ERR_')) {
          for (const r of plan.recipients) results.set(r.accountId, error.detail);
          continue; // the relay refused this frame: the next may pass
        }
        // The connection failed: this frame and the rest go out on the next pass.
        for (const rest of plans.slice(index)) {
          if ('tooLarge' in rest) results.set(rest.tooLarge.accountId, 'RELAY_ERR_TOO_LARGE');
          else for (const r of rest.recipients) results.set(r.accountId, UNSENT);
        }
        return results;
      }
      if (frame.type !== 'sent.multi' || frame.results.length !== plan.recipients.length)
        throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
      answered = true;
      for (const [i, result] of frame.results.entries())
        results.set(plan.recipients[i]!.accountId, 'error' in result ? result.error : undefined);
    }
    return results;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /** Sends a request on the (re)opened connection. */
  protected async request(frame: RelayRequest) {
    return (await this.connection.open()).request(frame);
  }
}

function toWire(submission: SealedSubmission): WireSubmission {
  return {
    clientMessageId: submission.clientMessageId,
    to: submission.recipient,
    toDevice: submission.recipientDevice,
    token: toBase64(submission.token),
    body: toBase64(submission.body),
  };
}

/**
 * Splits submissions into send.batch frames within the count and frame-size
 * limits, in order. A submission too large for any frame is its own chunk,
 * marked, so the caller can answer for it without sending.
 */
export function chunkForFrames(
  envelopes: readonly WireSubmission[],
): { envelopes: WireSubmission[]; tooLarge: boolean }[] {
  const budget = RELAY_LIMITS.maxFrameBytes - FRAME_OVERHEAD;
  const chunks: { envelopes: WireSubmission[]; tooLarge: boolean }[] = [];
  let current: WireSubmission[] = [];
  let bytes = 0;
  const flush = () => {
    if (current.length > 0) chunks.push({ envelopes: current, tooLarge: false });
    current = [];
    bytes = 0;
  };
  for (const envelope of envelopes) {
    const size = Buffer.byteLength(JSON.stringify(envelope)) + 1; // + the separating comma
    if (size > budget || envelope.body.length > Math.ceil(RELAY_LIMITS.maxEnvelopeBytes / 3) * 4) {
      flush();
      chunks.push({ envelopes: [envelope], tooLarge: true });
      continue;
    }
    if (current.length >= RELAY_LIMITS.maxBatchEnvelopes || bytes + size > budget) flush();
    current.push(envelope);
    bytes += size;
  }
  flush();
  return chunks;
}
