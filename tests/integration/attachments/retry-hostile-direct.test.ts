import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import {
  cancelTransfer,
  retryCancelledUpload,
} from '../../../electron/core/attachments/transfer-control.ts';
import {
  deleteMessages,
  failedMessageIds,
  findContact,
  getMessage,
  queueText,
  retryMessage,
} from '../../../electron/core/index.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { befriend, type EnginePerson, enginePerson } from '../../support/engines.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// Retry of 1:1 messages, hostile: a delivered message, a deleted one, another
// conversation's cancelled upload and a retry racing a delete are refused
// (INVALID_INPUT, the code `messages:retry` answers) or find nothing, and
// nothing is sent. Retry is what the service and the CLI run: the cancelled
// upload first, else the outbox entry (retryMessage).

const tmpFiles = (p: EnginePerson) => readdirSync(join(p.dir, 'attachments', 'tmp'));
const count = (p: EnginePerson, sql: string) =>
  Number(p.profile.db.prepare(sql, { pluck: true }).get());

/** What `messages:retry` does: resume a cancelled upload, else queue the outbox entry again. */
async function retry(p: EnginePerson, messageId: number): Promise<void> {
  if (!(await retryCancelledUpload(p.profile, messageId))) retryMessage(p.profile, messageId);
}

/** Alice composes a file to her contact `name` and cancels its upload before any pass. */
async function cancelledTo(alice: EnginePerson, name: string, caption: string) {
  const contact = findContact(alice.profile.db, name);
  const queued = await queueAttachmentMessage(
    alice.profile,
    contact.accountId,
    [{ path: testFile(tempDir(), `${caption}.pdf`, 20_000) }],
    caption,
  );
  const [file] = attachmentsOf(alice.profile, { messageIds: [queued.id] });
  expect(cancelTransfer(alice.profile, { conversationId: contact.conversationId }, file!.id)).toBe(
    true,
  );
  return queued.id;
}

describe('retry of a 1:1 message, hostile', () => {
  it('a delivered, a deleted, another conversation’s and a raced message: refused or untouched, nothing sent', async () => {
    const relay = join(tempDir(), 'relay');
    const alice = await enginePerson('Alice', relay);
    const bob = await enginePerson('Bob', relay);
    const carol = await enginePerson('Carol', relay);
    befriend(alice, bob);
    befriend(alice, carol);
    const toBob = findContact(alice.profile.db, 'Bob').conversationId;

    // Delivered: nothing to retry.
    const sent = queueText(alice.profile, bob.profile.account.accountId, 'hello');
    await alice.engine.sendOutbox();
    await bob.engine.receive({ firstWaitMs: 2_000 });
    expect(getMessage(alice.profile.db, sent.id)?.status).not.toBe('failed');
    expect(await rejectedCode(() => retry(alice, sent.id))).toBe('INVALID_INPUT');

    // Another conversation's cancelled upload: `retry Bob` does not see it.
    const carols = await cancelledTo(alice, 'Carol', 'Carol map');
    expect(failedMessageIds(alice.profile, toBob)).toEqual([]);
    expect(
      failedMessageIds(alice.profile, findContact(alice.profile.db, 'Carol').conversationId),
    ).toEqual([carols]);

    // Deleted: as unknown.
    const deleted = await cancelledTo(alice, 'Bob', 'Bob plan');
    await deleteMessages(alice.profile, { conversationId: toBob }, [deleted]);
    expect(await rejectedCode(() => retry(alice, deleted))).toBe('INVALID_INPUT');
    expect(thrownCode(() => retryMessage(alice.profile, 999_999))).toBe('INVALID_INPUT');

    // A retry that must encrypt the file again (cancelled before any reservation) races a delete.
    const raced = await cancelledTo(alice, 'Bob', 'Bob route');
    expect(
      alice.profile.db
        .prepare('SELECT upload_token FROM attachments WHERE message_id = ?', { pluck: true })
        .get([raced]),
    ).toBeNull();
    const [code] = await Promise.all([
      rejectedCode(() => retry(alice, raced)),
      deleteMessages(alice.profile, { conversationId: toBob }, [raced]),
    ]);
    expect([undefined, 'INVALID_INPUT']).toContain(code);
    expect(getMessage(alice.profile.db, raced)).toBeUndefined();

    // Nothing went to Bob; only Carol's cancelled file is still held.
    await alice.engine.sendOutbox();
    const report = await bob.engine.receive({ firstWaitMs: 500 });
    expect(report.stored).toBe(0);
    expect(count(alice, 'SELECT count(*) FROM outbox')).toBe(0);
    expect(count(alice, 'SELECT count(*) FROM attachments')).toBe(1);
    expect(tmpFiles(alice)).toEqual([]); // no ciphertext temp file: the stored copy is what is held
  });
});
