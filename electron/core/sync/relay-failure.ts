import type { RelayErrorCode } from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';

// How relay refusals become core errors (docs/relay-protocol.md#errors):
// budget, storage, rate and internal refusals mean "try again later" and
// never count against a message; every other code is a refusal that does.

/** Relay codes that mean "try again later": the envelope stays queued and no refusal is counted. */
export const TRY_LATER_CODES: ReadonlySet<string> = new Set<RelayErrorCode>([
  'RELAY_ERR_OVER_BUDGET',
  'RELAY_ERR_STORAGE_FULL',
  'RELAY_ERR_RATE_LIMITED',
  'RELAY_ERR_INTERNAL',
]);

/**
 * `sendBatch` result for a submission the relay never answered for (the
 * connection failed after earlier frames of the batch were stored): not sent,
 * not refused; it goes out on the next pass.
 */
export const UNSENT = 'UNSENT';

/** The relay id in a challenge is not the one pinned for that address: another relay, or an impostor. */
export const RELAY_ID_MISMATCH = 'RELAY_ID_MISMATCH';

/** A relay that cannot be used now; `retryAfterMs` is the relay's hint, when it gave one. */
export class RelayUnavailableError extends SottoError {
  constructor(
    detail: string,
    readonly retryAfterMs?: number,
  ) {
    super('RELAY_UNAVAILABLE', detail);
  }
}

/** The core error for a relay `error` frame's code. */
export function relayFailure(code: string, retryAfterMs?: number): SottoError {
  return TRY_LATER_CODES.has(code)
    ? new RelayUnavailableError(code, retryAfterMs)
    : new SottoError('RELAY_REFUSED', code);
}

/** How long the relay asked us to wait before trying again (0 if it did not say). */
export function retryAfterOf(error: unknown): number {
  return error instanceof RelayUnavailableError ? (error.retryAfterMs ?? 0) : 0;
}
