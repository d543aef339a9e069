import { RELAY_LIMITS } from '../shared/relay/protocol.ts';
import { envelopeFrames } from './frames.ts';
import { log } from './log.ts';
import type { Mailbox, RelayStorage } from './storage.ts';

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
    });
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
    await this.running;
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
          if (!this.sendText(frame)) return;
        }
      }
    } catch {
      // Storage trouble: the envelopes stay queued and the next arrival, ack or connection retries.
      this.behind = true;
      log.error('push.storage_failed');
    }
  }
}
