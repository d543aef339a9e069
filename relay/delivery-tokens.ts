import type { AccountId } from '../shared/protocol/account-id.ts';
import { sameBytes, tokenHash } from './auth.ts';
import { decodeBase64 } from './frames.ts';
import type { RelayStorage, StoreResult } from './storage.ts';

/** Accounts whose token hash a node remembers (a few MB at most). */
const REMEMBERED = 20_000;

/** The delivery token check of a send: a refusal, or the hash the store re-checks. */
export type TokenCheck =
  | { readonly error: 'RELAY_ERR_BAD_TOKEN' | 'RELAY_ERR_ACCOUNT_MOVED' }
  /** `cached`: accepted from memory, not from the row. */
  | { readonly tokenHash: Uint8Array; readonly cached: boolean };

/**
 * The delivery tokens of recent recipients, remembered per node so a send
 * does not read the account row (it was a quarter of a message's statements
 * on PostgreSQL). Only a match is trusted: the store checks the same hash
 * against the committed row in its own transaction (NewEnvelope.tokenHash),
 * so a token changed or an account moved on another node still refuses the
 * envelope; anything else (no entry, another token) reads the row, so a new
 * token works at once. A stale entry costs at most the destination budget of
 * the one request (a send or a batch) that finds it stale, which then
 * forgets it; a send refused by the budget re-reads the row first
 * (tokenThenBudget), so the holder of a replaced token is told BAD_TOKEN,
 * never about the budget.
 */
export class DeliveryTokens {
  private readonly known = new Map<AccountId, Uint8Array>();

  constructor(private readonly storage: RelayStorage) {}

  /**
   * Whether `token` (base64) opens the account's mailbox. One refusal for a
   * wrong token, no token registered and an unknown account, so a stranger
   * cannot probe which accounts exist; only a token holder learns of a move.
   * `cached` false: from the row only, for a request no store re-checks.
   */
  async check(accountId: AccountId, token: string, cached = true): Promise<TokenCheck> {
    const bytes = decodeBase64(token);
    if (bytes === undefined) return { error: 'RELAY_ERR_BAD_TOKEN' };
    const hash = tokenHash(bytes);
    const remembered = this.known.get(accountId);
    if (cached && remembered !== undefined && sameBytes(remembered, hash))
      return { tokenHash: hash, cached: true };
    const account = await this.storage.account(accountId);
    if (account?.tokenHash === undefined || !sameBytes(account.tokenHash, hash))
      return { error: 'RELAY_ERR_BAD_TOKEN' };
    if (account.moved) return { error: 'RELAY_ERR_ACCOUNT_MOVED' };
    this.remember(accountId, account.tokenHash);
    return { tokenHash: hash, cached: false };
  }

  /** The store refused a token this node accepted: forgets the stale entry and names the refusal. */
  refused(
    accountId: AccountId,
    kind: Extract<StoreResult['kind'], 'bad-token' | 'moved'>,
  ): 'RELAY_ERR_BAD_TOKEN' | 'RELAY_ERR_ACCOUNT_MOVED' {
    this.known.delete(accountId);
    return kind === 'bad-token' ? 'RELAY_ERR_BAD_TOKEN' : 'RELAY_ERR_ACCOUNT_MOVED';
  }

  private remember(accountId: AccountId, hash: Uint8Array): void {
    this.known.delete(accountId);
    this.known.set(accountId, hash);
    // Oldest first: a Map iterates in insertion order.
    if (this.known.size > REMEMBERED) this.known.delete(this.known.keys().next().value!);
  }
}
