import type { Sql } from '../db/sqlite.ts';
import type { HistoryMessage } from '../history/history.ts';

type Status = HistoryMessage['status'];

/** At most this many messages are watched; the oldest are dropped first. */
const WATCH_LIMIT = 2_000;

/**
 * The outgoing messages the UI has on screen whose status may still change
 * (queued → sent → delivered, or failed). After each sync step the service
 * asks for `changes` and pushes them as `message:status` events, so the UI
 * never polls.
 */
export class StatusWatch {
  private readonly watched = new Map<number, Status>();

  track(messages: readonly HistoryMessage[]): void {
    for (const message of messages) {
      if (!message.outgoing || message.status === 'delivered') continue;
      this.watched.delete(message.id); // re-insert: most recent last
      this.watched.set(message.id, message.status);
    }
    for (const id of this.watched.keys()) {
      if (this.watched.size <= WATCH_LIMIT) break;
      this.watched.delete(id);
    }
  }

  /** Messages whose status changed since last seen; delivered ones stop being watched. */
  changes(db: Sql): { messageId: number; conversationId: number; status: Status }[] {
    if (this.watched.size === 0) return [];
    const ids = [...this.watched.keys()];
    const rows = db
      .prepare(
        `SELECT id, conversation_id AS conversationId, status FROM messages WHERE id IN (SELECT value FROM json_each(?))`,
      )
      .all<{ id: number; conversationId: number; status: Status }>([JSON.stringify(ids)]);
    const changed = [];
    for (const row of rows) {
      if (this.watched.get(row.id) === row.status) continue;
      changed.push({ messageId: row.id, conversationId: row.conversationId, status: row.status });
      if (row.status === 'delivered') this.watched.delete(row.id);
      else this.watched.set(row.id, row.status);
    }
    return changed;
  }

  clear(): void {
    this.watched.clear();
  }
}
