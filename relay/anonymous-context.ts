import type { AccountId } from '../shared/protocol/account-id.ts';
import type { RelayErrorCode, ServerFrame } from '../shared/relay/protocol.ts';
import type { ConnectionBudget, RelayBudgets } from './budgets.ts';
import type { DeliveryTokens } from './delivery-tokens.ts';
import { wakeMailboxes } from './delivery.ts';
import { errorFrame } from './frames.ts';
import type { RelaySettings } from './options.ts';
import type { ConnectionRegistry } from './registry.ts';
import type { Arrival } from './storage.ts';
import type { Take } from './token-bucket.ts';

// What every anonymous request shares (send, send.batch, send.multi, keys.fetch):
// its source, the recipient's token check and the shape of a refusal.

/** The connection's source (address and budgets), and the relay's shared state. */
export interface AnonymousContext {
  /** The client's address, only as a budget key (never stored or logged). */
  readonly address: string;
  readonly budget: ConnectionBudget;
  readonly budgets: RelayBudgets;
  readonly settings: RelaySettings;
  readonly registry: ConnectionRegistry;
  readonly tokens: DeliveryTokens;
}

/** A refusal of one envelope or request, with the retry hint of budget refusals. */
export interface Refusal {
  readonly error: RelayErrorCode;
  readonly retryAfterMs?: number;
}

/** The refusal a budget verdict means, if it is one. */
export function overBudget(verdict: Take): Refusal | undefined {
  return verdict.ok
    ? undefined
    : { error: 'RELAY_ERR_OVER_BUDGET', retryAfterMs: verdict.retryAfterMs };
}

/** The `error` answer to request `id` for a refusal. */
export function refusalFrame(refusal: Refusal, id: number): ServerFrame {
  return {
    ...errorFrame(refusal.error, id),
    ...(refusal.retryAfterMs === undefined ? {} : { retryAfterMs: refusal.retryAfterMs }),
  };
}

/**
 * Whether `token` (base64) opens the account's mailbox, from the account row
 * (DeliveryTokens.check): for requests no store re-checks (bundle fetches).
 */
export async function authorize(
  accountId: AccountId,
  token: string,
  context: AnonymousContext,
): Promise<Refusal | undefined> {
  const checked = await context.tokens.check(accountId, token, false);
  return 'error' in checked ? { error: checked.error } : undefined;
}

/**
 * The delivery token, then `spend` (the destination's budget, and any check
 * after the token): the first refusal, or the hash the store re-checks. A
 * token accepted from memory is read from the row again before a refusal by
 * `spend` is answered, so a replaced token is told BAD_TOKEN, as from the row.
 */
export async function tokenThenBudget(
  accountId: AccountId,
  token: string,
  context: AnonymousContext,
  spend: () => Promise<Refusal | undefined>,
): Promise<Refusal | { readonly tokenHash: Uint8Array }> {
  const checked = await context.tokens.check(accountId, token);
  if ('error' in checked) return checked;
  const refusal = await spend();
  if (refusal === undefined) return checked;
  if (checked.cached) {
    const fresh = await context.tokens.check(accountId, token, false);
    if ('error' in fresh) return fresh;
  }
  return refusal;
}

/** Tells the connections of each mailbox (once per mailbox) what arrived (delivery.ts). */
export function wake(arrivals: Iterable<Arrival>, context: AnonymousContext): void {
  wakeMailboxes(arrivals, (mailbox) => context.registry.ofMailbox(mailbox));
}
