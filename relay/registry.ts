import type { AccountId } from '../shared/protocol/account-id.ts';
import type { Mailbox, OneTimeKeyCounts, StoredEnvelope } from './storage.ts';

/** An authenticated connection, as other connections' requests reach it. */
export interface MailboxPeer {
  readonly mailbox: Mailbox;
  /** Something was stored in this peer's mailbox (all of it, in seq order, when known): push it if the window has room. */
  envelopesArrived(envelopes?: readonly StoredEnvelope[]): void;
  /** These envelopes of the mailbox were acked (by any connection): they leave the push window. */
  envelopesAcked(envelopeIds: readonly string[]): void;
  /** A fetch left this device's one-time keys low. */
  keysLow(counts: OneTimeKeyCounts): void;
  /** The account moved: its logins are refused from now on, so are open connections. */
  evict(): void;
}

/**
 * The authenticated connections, by account: enforces the per-account
 * connection limit and lets a request reach the connections of a mailbox
 * (new envelopes, acks from a sibling connection, keys.low).
 */
export class ConnectionRegistry {
  private readonly byAccount = new Map<AccountId, Set<MailboxPeer>>();

  constructor(private readonly maxPerAccount: number) {}

  /** Registers a connection; false (and nothing registered) when its account is at the limit. */
  add(peer: MailboxPeer): boolean {
    const peers = this.byAccount.get(peer.mailbox.accountId) ?? new Set<MailboxPeer>();
    if (peers.size >= this.maxPerAccount) return false;
    peers.add(peer);
    this.byAccount.set(peer.mailbox.accountId, peers);
    return true;
  }

  /** Forgets a connection (a no-op if it was never registered). */
  remove(peer: MailboxPeer): void {
    const peers = this.byAccount.get(peer.mailbox.accountId);
    if (!peers?.delete(peer)) return;
    if (peers.size === 0) this.byAccount.delete(peer.mailbox.accountId);
  }

  /** The accounts with a connection here. */
  accounts(): AccountId[] {
    return [...this.byAccount.keys()];
  }

  /** Every connection of an account, any device. */
  ofAccount(accountId: AccountId): MailboxPeer[] {
    return [...(this.byAccount.get(accountId) ?? [])];
  }

  /** The connections reading one device's mailbox. */
  ofMailbox(mailbox: Mailbox): MailboxPeer[] {
    return [...(this.byAccount.get(mailbox.accountId) ?? [])].filter(
      (peer) => peer.mailbox.deviceId === mailbox.deviceId,
    );
  }
}
