import { RELAY_LIMITS } from '../shared/relay/protocol.ts';
import { envelopeFrames } from './frames.ts';
import { log } from './log.ts';
import type {
  Arrival,
  Mailbox,
  NewEnvelope,
  RelayStorage,
  StoredEnvelope,
  StoreResult,
} from './storage.ts';

/** The envelope as its row now holds it, if the store told its seq (else a push must read it). */
export function storedEnvelopeOf(
  envelope: NewEnvelope,
  result: Extract<StoreResult, { kind: 'stored' }>,
): StoredEnvelope | undefined {
  if (result.seq === undefined) return undefined;
  const { body, receivedAt } = envelope;
  return { seq: result.seq, id: result.envelopeId, body, receivedAt };
}

/** The arrival a stored envelope makes (with the envelope when the store told its seq). */
export function arrivalOf(
  envelope: NewEnvelope,
  result: Extract<StoreResult, { kind: 'stored' }>,
): Arrival {
  const stored = storedEnvelopeOf(envelope, result);
  return stored === undefined
    ? { mailbox: envelope.to }
    : { mailbox: envelope.to, envelopes: [stored] };
}

/**
 * Tells the connections of each mailbox, once per mailbox, what arrived: all
 * its envelopes in seq order when every one of them is known, else only that
 * something did (they read).
 */
export function wakeMailboxes(
  arrivals: Iterable<Arrival>,
  peersOf: (mailbox: Mailbox) => Iterable<{
    envelopesArrived(envelopes?: readonly StoredEnvelope[]): void;
  }>,
): void {
  const byMailbox = new Map<string, { mailbox: Mailbox; envelopes?: StoredEnvelope[] }>();
  for (const { mailbox, envelopes } of arrivals) {
    const key = `${mailbox.accountId}.${mailbox.deviceId}`;
    const entry = byMailbox.get(key);
    const known = entry === undefined || entry.envelopes !== undefined;
    byMailbox.set(key, {
      mailbox,
      ...(known && envelopes !== undefined
        ? { envelopes: [...(entry?.envelopes ?? []), ...envelopes] }
        : {}),
    });
  }
  for (const { mailbox, envelopes } of byMailbox.values()) {
    const ordered = envelopes?.sort((a, b) => a.seq - b.seq);
    for (const peer of peersOf(mailbox)) peer.envelopesArrived(ordered);
  }
}

/**
 * One connection's push window (docs/relay-protocol.md#envelopes): at most 200
 * envelopes pushed and not yet acked. Each connection of a mailbox has its own
 * window and its own cursor, so an envelope is pushed at most once per
 * connection but to every connection of the device (a stale half-open socket
 * must not hold mail back). The cursor (arrival order) makes a push one index
 * range read, whatever the window holds.
 */
export class PushWindow {
  private readonly inFlight = new Set<string>();
  private cursor = 0;
  private wanted = false;
  /**
   * The last read may have left envelopes behind (the window was full, or the
   * read failed): only then does an ack need a read. Otherwise every queued
   * envelope was pushed and any new one comes with its own wakeup, so re-reading
   * on each ack was one empty query per message.
   */
  private behind = false;
  private started = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly storage: RelayStorage,
    private readonly mailbox: Mailbox,
    private readonly sendText: (text: string) => boolean,
  ) {}

  /** Allows pushing (called once `ready` is sent: nothing may be pushed before it) and pushes. */
  start(): void {
    this.started = true;
    this.fill();
  }

  /** Pushes queued envelopes while there is room; calls made while a push runs coalesce into one more round. */
  fill(): void {
    this.wanted = true;
    if (!this.started) return;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      // A call that came after the round's loop had ended but before this (it
      // saw a round running and left its wish in `wanted`) gets its own round.
      if (this.wanted) this.fill();
    });
  }

  /**
   * Envelopes were stored in the mailbox (`envelopes`: all of them, in seq
   * order, when the storer knew them): pushed from memory if they follow what
   * this window pushed, else read.
   */
  arrived(envelopes?: readonly StoredEnvelope[]): void {
    if (envelopes === undefined || !this.pushFromMemory(envelopes)) this.fill();
  }

  /** The slow poll found `seq` as the mailbox's newest: pushes if that is past what this window pushed. */
  newestQueued(seq: number): void {
    if (seq > this.cursor) this.fill();
  }

  /** Frees window slots (ids not in the window are ignored) and pushes more if some were left queued. */
  acked(envelopeIds: readonly string[]): void {
    for (const id of envelopeIds) this.inFlight.delete(id);
    if (this.behind) this.fill();
  }

  /** Envelopes pushed and not yet acked (the queue-depth metric). */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Resolves when no push is running (for shutdown). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /**
   * Pushes the envelopes that follow the cursor without reading them; false if
   * any is left for a read. Only between reads (a read in flight may return
   * them too), only seq = cursor + 1 (seqs of a mailbox have no gaps, so
   * anything else has an envelope before it this window has not seen), and
   * not while the cursor is 0: a window that pushed nothing does not know
   * where the mailbox stands, so its first envelope is read.
   */
  private pushFromMemory(envelopes: readonly StoredEnvelope[]): boolean {
    if (!this.started || this.running !== undefined || this.behind || this.cursor === 0)
      return false;
    const next: StoredEnvelope[] = [];
    let cursor = this.cursor;
    for (const envelope of envelopes) {
      // At or before the cursor: pushed already (by a read, or from memory).
      if (envelope.seq <= cursor) continue;
      if (envelope.seq !== cursor + 1) break;
      next.push(envelope);
      cursor = envelope.seq;
    }
    if (this.inFlight.size + next.length > RELAY_LIMITS.pushWindow) return false;
    const all = envelopes.every((envelope) => envelope.seq <= cursor);
    if (next.length === 0) return all;
    for (const envelope of next) this.inFlight.add(envelope.id);
    this.cursor = cursor;
    for (const frame of envelopeFrames(next)) if (!this.sendText(frame)) break;
    return all;
  }

  private async drain(): Promise<void> {
    try {
      while (this.wanted) {
        this.wanted = false;
        const room = RELAY_LIMITS.pushWindow - this.inFlight.size;
        // Set in the same turn as the room check, so an ack that frees room after it reads again.
        this.behind = room <= 0;
        if (this.behind) return;
        const envelopes = await this.storage.listQueued(this.mailbox, this.cursor, room);
        // A full read may have more behind it: read once more (the room is checked again).
        if (envelopes.length === room) this.wanted = true;
        if (envelopes.length === 0) continue;
        for (const envelope of envelopes) this.inFlight.add(envelope.id);
        this.cursor = envelopes[envelopes.length - 1]!.seq;
        for (const frame of envelopeFrames(envelopes)) {
          // The socket closed: nothing more to push (and no round after this one).
          if (!this.sendText(frame)) {
            this.wanted = false;
            return;
          }
        }
      }
    } catch {
      // Storage trouble: the envelopes stay queued and the next arrival, ack or connection retries.
      this.behind = true;
      log.error('push.storage_failed');
    }
  }
}
