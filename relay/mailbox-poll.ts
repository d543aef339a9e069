import { log } from './log.ts';
import type { Mailbox, RelayStorage } from './storage.ts';

/** A local connection as the slow poll sees it. */
export interface PolledPeer {
  /** The logged-in mailbox, or undefined (not logged in, anonymous): not polled. */
  readonly loggedIn: Mailbox | undefined;
  /** Something may have arrived: re-read the mailbox. */
  envelopesArrived(): void;
  /** The mailbox's newest queued envelope has this seq. */
  newestQueued(seq: number): void;
}

/** Mailboxes per read: keeps each statement's arrays and its answer small. */
const CHUNK = 1_000;

const keyOf = (mailbox: Mailbox) => `${mailbox.accountId}:${mailbox.deviceId}`;

/**
 * Re-reads the mailboxes of these connections after a wakeup may have been
 * missed (slow poll, rescan after a LISTEN reconnect). With a storage that can
 * answer for many mailboxes at once, one read per thousand mailboxes tells
 * which hold anything past their cursors, and only those are re-read: one
 * re-read per connection was a burst of a query per connection (a third of a
 * thousand a second on a full node) that every delivery queued behind.
 */
export async function pollMailboxes(
  storage: RelayStorage,
  peers: Iterable<PolledPeer>,
): Promise<void> {
  const byMailbox = new Map<string, { mailbox: Mailbox; peers: PolledPeer[] }>();
  for (const peer of peers) {
    const mailbox = peer.loggedIn;
    if (mailbox === undefined) continue;
    if (storage.newestQueued === undefined) {
      peer.envelopesArrived();
      continue;
    }
    const key = keyOf(mailbox);
    const entry = byMailbox.get(key) ?? { mailbox, peers: [] };
    entry.peers.push(peer);
    byMailbox.set(key, entry);
  }
  const entries = [...byMailbox.values()];
  for (let start = 0; start < entries.length; start += CHUNK) {
    const chunk = entries.slice(start, start + CHUNK);
    try {
      const newest = (await storage.newestQueued?.(chunk.map((e) => e.mailbox))) ?? [];
      for (const { mailbox, seq } of newest)
        for (const peer of byMailbox.get(keyOf(mailbox))?.peers ?? []) peer.newestQueued(seq);
    } catch {
      // The next slice or wakeup covers these mailboxes again; mail stays queued meanwhile.
      log.error('poll.storage_failed');
    }
  }
}
