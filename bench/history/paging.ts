import { messagesPage, type PageCursor } from '../../electron/core/index.ts';
import type { Sql } from '../../electron/core/db/sqlite.ts';
import { type Latency, sample } from '../support/stats.ts';
import type { BenchConversation } from './build.ts';

export interface PagingLatency {
  /** messagesPage(db, id, 50): the newest page, with sender names. */
  readonly latest: Latency;
  /** The same newest-50 query without the sender-name joins (baseline). */
  readonly latestRaw: Latency;
  /** messagesPage(db, id, 50, cursor) from the middle of a conversation. */
  readonly older: Latency;
}

const PAGE = 50;
const RUNS = { warmup: 200, minIterations: 2000, maxIterations: 2000, budgetMs: 10_000 } as const;

/** The baseline: newest 50 of one conversation, no joins, no names. */
const RAW_LATEST = `
  SELECT m.id, m.uuid, m.conversation_id AS conversationId, m.outgoing, m.sender_account AS senderAccount,
         m.sent_at AS sentAt, m.received_at AS receivedAt, m.body, m.status
  FROM messages m WHERE m.conversation_id = ?
  ORDER BY m.sent_at DESC, m.id DESC LIMIT ?`;

/** A keyset cursor halfway through each conversation (found once, untimed). */
function middleCursors(db: Sql, conversations: readonly BenchConversation[]): PageCursor[] {
  const at = db.prepare(
    'SELECT sent_at AS sentAt, id FROM messages WHERE conversation_id = ? ORDER BY sent_at DESC, id DESC LIMIT 1 OFFSET ?',
  );
  return conversations.map((c) => {
    const row = at.get<{ sentAt: number; id: number }>([
      c.conversationId,
      Math.floor(c.messages / 2),
    ]);
    if (!row) throw new Error(`conversation ${c.conversationId} has no middle`);
    return row;
  });
}

/**
 * Latency of the conversation view's queries, rotating through every
 * conversation (busy ones and quiet ones alike).
 */
export function pagingLatency(db: Sql, conversations: readonly BenchConversation[]): PagingLatency {
  const ids = conversations.map((c) => c.conversationId);
  const cursors = middleCursors(db, conversations);
  const idAt = (i: number) => ids[i % ids.length]!;
  const check = (rows: readonly unknown[]) => {
    if (rows.length !== PAGE) throw new Error(`expected a page of ${PAGE}, got ${rows.length}`);
  };

  const raw = db.prepare(RAW_LATEST);
  const latestRaw = sample((i) => check(raw.all([idAt(i), PAGE])), RUNS);
  const latest = sample((i) => check(messagesPage(db, idAt(i), PAGE)), RUNS);
  const older = sample(
    (i) => check(messagesPage(db, idAt(i), PAGE, cursors[i % cursors.length])),
    RUNS,
  );
  return { latest, latestRaw, older };
}
