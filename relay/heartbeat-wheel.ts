/** Something the wheel visits once per period (a connection's heartbeat). */
export interface HeartbeatMember {
  heartbeat(): void;
}

/** Slots are never visited more often than this, whatever the period (a test's 50 ms period is one slot). */
const MIN_SLOT_MS = 50;
/** At most this many slots: 30 s of heartbeat is then a tick every 300 ms. */
const MAX_SLOTS = 100;

/**
 * One timer for every connection's heartbeat: members are spread round-robin
 * over slots and each tick visits one slot, so every member still gets one
 * visit per period but a full node pings (and hears pongs from) 1/slots of its
 * connections at a time. A single interval calling every connection at once
 * wrote 10,000 pings in one event-loop turn, and every delivery of that moment
 * waited behind them and behind the 10,000 pongs that followed.
 */
export class HeartbeatWheel<T extends HeartbeatMember> {
  private readonly slots: Set<T>[];
  private readonly slotOf = new Map<T, number>();
  private next = 0;
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs: number) {
    const count = Math.max(1, Math.min(MAX_SLOTS, Math.floor(periodMs / MIN_SLOT_MS)));
    this.slots = Array.from({ length: count }, () => new Set<T>());
  }

  /** Starts ticking (one slot per periodMs / slots). */
  start(): void {
    this.timer ??= setInterval(() => this.visit(), this.periodMs / this.slots.length);
  }

  /** Stops ticking; members stay. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Adds a member to the emptiest slot, so slots stay even however connections come and go. */
  add(member: T): void {
    if (this.slotOf.has(member)) return;
    // Ties go round-robin (from a rotating start), so a burst of connects spreads too.
    let slot = this.next;
    for (let i = 1; i < this.slots.length; i++) {
      const candidate = (this.next + i) % this.slots.length;
      if (this.slots[candidate]!.size < this.slots[slot]!.size) slot = candidate;
    }
    this.next = (slot + 1) % this.slots.length;
    this.slots[slot]!.add(member);
    this.slotOf.set(member, slot);
  }

  /** Removes a member (a no-op if it is not in the wheel). */
  remove(member: T): void {
    const slot = this.slotOf.get(member);
    if (slot === undefined) return;
    this.slots[slot]!.delete(member);
    this.slotOf.delete(member);
  }

  /** Members in the wheel. */
  get size(): number {
    return this.slotOf.size;
  }

  private visit(): void {
    const slot = this.slots[this.tick]!;
    this.tick = (this.tick + 1) % this.slots.length;
    // A heartbeat may remove its member (terminate, then close): Set iteration allows that.
    for (const member of slot) member.heartbeat();
  }
}
