import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { type StatusChange, type StatusRow, toStatusChange } from './status-change.ts';

// How outgoing messages move between statuses outside a refusal (refusals.ts):
// a relay stored them (`sent`), or the user retries a failed one (`queued`).
// Each change is returned as the row that changed, for the service's events.

/**
 * A relay stored these envelopes durably: drop them from the outbox, mark
 * their messages sent. Returns the messages that became `sent` (a receipt may
 * have made one `delivered` already).
 */
export function markSent(profile: Profile, outboxIds: readonly number[]): StatusChange[] {
  return profile.commit(undefined, (db) => {
    const status = db.prepare(
      `UPDATE messages SET status = 'sent' WHERE status = 'queued' AND id = (SELECT message_id FROM outbox WHERE id = ?)
       RETURNING id, conversation_id, status`,
    );
    const remove = db.prepare('DELETE FROM outbox WHERE id = ?');
    const changes: StatusChange[] = [];
    for (const id of outboxIds) {
      const changed = status.get<StatusRow>([id]);
      if (changed) changes.push(toStatusChange(changed));
      remove.run([id]);
    }
    return changes;
  });
}

/**
 * A conversation's failed messages that a retry can send (a relay kept
 * refusing them, or the user cancelled their upload), oldest first.
 */
export function failedMessageIds(profile: Profile, conversationId: number): number[] {
  return profile.db
    .prepare(
      // A message whose attachment upload the relay refused for good has nothing to retry
      // (its ciphertext is gone: send the file again); a cancelled upload resumes.
      `SELECT id FROM messages m WHERE conversation_id = ? AND status = 'failed'
         AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id AND a.state = 'failed'
                           AND a.error IS NOT 'CANCELLED')
       ORDER BY id`,
      { pluck: true },
    )
    .all<number>([conversationId]);
}

/**
 * The user asked to retry a failed message: queue it again. Returns the
 * status change, or undefined if the message was not `failed` (its entry was
 * only due again).
 */
export function retryMessage(profile: Profile, messageId: number): StatusChange | undefined {
  return profile.commit(undefined, (db) => {
    const { changes } = db
      .prepare(
        'UPDATE outbox SET attempts = 0, next_attempt_at = 0, token_refused_at = NULL WHERE message_id = ?',
      )
      .run([messageId]);
    if (changes === 0) throw new SottoError('INVALID_INPUT', 'message is not in the outbox');
    const changed = db
      .prepare(
        "UPDATE messages SET status = 'queued' WHERE id = ? AND status = 'failed' RETURNING id, conversation_id, status",
      )
      .get<StatusRow>([messageId]);
    return changed ? toStatusChange(changed) : undefined;
  });
}
