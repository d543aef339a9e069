import {
  type ProtocolAddress,
  SenderKeyRecord,
  SenderKeyStore,
  type Uuid,
} from '@signalapp/libsignal-client';
import type { Sql } from '../db/sqlite.ts';

// libsignal's SenderKeyStore over SQLCipher, as a unit of work like the
// 1:1 stores (crypto/protocol-transaction.ts): every save lands in an
// in-memory overlay (read-your-writes) and reaches the database only through
// `write(db)`, which the caller runs inside the transaction that also holds
// the message the chain advance produced (R2/R4 for sender keys:
// docs/architecture.md). A crash before that commit forgets both.

/** `sender_keys.address` for a libsignal address: `<account id>.<device id>`. */
export function senderKeyOwner(address: ProtocolAddress): string {
  return `${address.name()}.${address.deviceId()}`;
}

function rowKey(sender: string, distributionId: string): string {
  return `${sender}\n${distributionId.toLowerCase()}`;
}

/** One pending change: the serialized record, or null to delete it (a reset of our own chain). */
interface SenderKeyWrite {
  readonly sender: string;
  readonly distributionId: string;
  readonly record: Uint8Array<ArrayBuffer> | null;
}

/** A unit of work over sender-key records. */
export class SenderKeyUnit {
  private readonly pending = new Map<string, SenderKeyWrite>();
  /** The libsignal store whose saves land in this unit. */
  readonly store: SenderKeyStore;

  constructor(
    private readonly db: Sql,
    private readonly parent?: SenderKeyUnit,
  ) {
    this.store = new OverlaySenderKeyStore(this);
  }

  /** A nested unit (one envelope) whose saves reach this one only through `mergeIntoParent`. */
  child(): SenderKeyUnit {
    return new SenderKeyUnit(this.db, this);
  }

  /** Keeps a nested unit's writes (its envelope was processed). */
  mergeIntoParent(): void {
    if (!this.parent) throw new Error('not a nested unit of work');
    for (const [key, write] of this.pending) this.parent.pending.set(key, write);
  }

  /** True if nothing was saved or deleted. */
  get isEmpty(): boolean {
    return this.pending.size === 0;
  }

  /** The serialized record for (sender, distribution id), overlay first; undefined when none. */
  read(sender: string, distributionId: string): Uint8Array | undefined {
    const key = rowKey(sender, distributionId);
    const write = this.pendingWrite(key);
    if (write) return write.record ?? undefined;
    const row = this.db
      .prepare('SELECT record FROM sender_keys WHERE address = ? AND distribution_id = ?', {
        pluck: true,
      })
      .get([sender, distributionId.toLowerCase()]) as Uint8Array | undefined;
    return row ?? undefined;
  }

  private pendingWrite(key: string): SenderKeyWrite | undefined {
    return this.pending.get(key) ?? this.parent?.pendingWrite(key);
  }

  /** Records a save (serialized bytes, never the live object). */
  save(sender: string, distributionId: string, record: Uint8Array<ArrayBuffer>): void {
    const id = distributionId.toLowerCase();
    this.pending.set(rowKey(sender, id), { sender, distributionId: id, record });
  }

  /** Forgets a record: our own chain's reset (the next `create` starts a new chain). */
  remove(sender: string, distributionId: string): void {
    const id = distributionId.toLowerCase();
    this.pending.set(rowKey(sender, id), { sender, distributionId: id, record: null });
  }

  /** Writes the overlay. Call inside the caller's transaction (the one holding what the advance produced). */
  write(db: Sql, now = Date.now()): void {
    if (this.parent) throw new Error('a nested unit is written through its root');
    const upsert = db.prepare(
      `INSERT INTO sender_keys (address, distribution_id, record, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (address, distribution_id) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at`,
    );
    const remove = db.prepare('DELETE FROM sender_keys WHERE address = ? AND distribution_id = ?');
    for (const w of this.pending.values()) {
      if (w.record) upsert.run([w.sender, w.distributionId, w.record, now]);
      else remove.run([w.sender, w.distributionId]);
    }
    this.pending.clear();
  }
}

class OverlaySenderKeyStore extends SenderKeyStore {
  constructor(private readonly unit: SenderKeyUnit) {
    super();
  }

  override saveSenderKey(
    sender: ProtocolAddress,
    distributionId: Uuid,
    record: SenderKeyRecord,
  ): Promise<void> {
    this.unit.save(senderKeyOwner(sender), distributionId, record.serialize());
    return Promise.resolve();
  }

  override getSenderKey(
    sender: ProtocolAddress,
    distributionId: Uuid,
  ): Promise<SenderKeyRecord | null> {
    const bytes = this.unit.read(senderKeyOwner(sender), distributionId);
    if (!bytes) return Promise.resolve(null);
    try {
      return Promise.resolve(SenderKeyRecord.deserialize(Uint8Array.from(bytes)));
    } catch {
      // A damaged record is treated as missing: the sender is asked to resend (retry request).
      return Promise.resolve(null);
    }
  }
}
