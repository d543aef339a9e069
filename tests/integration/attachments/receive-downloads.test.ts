import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { onTransfers } from '../../../electron/core/attachments/transfers.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// SyncEngine.receive lingers `idleMs` after a batch for more mail; the
// attachments a committed batch points to are downloaded during that wait,
// not after it (the fixed wait the attachment benchmark saw on every file).
// With a long linger the download must end well before it does; a download
// that waited for the drain would end after it.

const SIZE = 1024 * 1024 + 3;
const LINGER_MS = 8_000;

describe('receive downloads during its idle wait', () => {
  it('the attachment is downloaded before the linger after its batch is over, and saves byte-identical', async () => {
    const relay = join(tempDir(), 'relay');
    const alice = await enginePerson('Alice', relay);
    const bob = await enginePerson('Bob', relay);
    befriend(alice, bob);
    await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
      { path: testFile(tempDir(), 'clip.bin', SIZE) },
    ]);
    await alice.engine.sendOutbox();
    let batchAt = 0;
    let endedAt = 0;
    const stop = onTransfers(bob.profile, { ended: () => (endedAt = Date.now()) });
    const report = await bob.engine.receive({
      firstWaitMs: 10_000,
      idleMs: LINGER_MS,
      onBatch: () => (batchAt ||= Date.now()),
    });
    const returnedAt = Date.now();
    stop();
    expect(report.stored).toBe(1);
    expect(endedAt).toBeGreaterThan(0);
    // Ended inside the linger (the download took less than the 8 s it lasts, even on a busy machine).
    expect(endedAt - batchAt).toBeLessThan(LINGER_MS);
    expect(returnedAt - batchAt).toBeGreaterThanOrEqual(LINGER_MS - 50);
    const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
    const [a] = attachmentsOf(bob.profile, { messageIds: ids });
    expect(a?.state).toBe('done');
    const out = join(tempDir(), 'saved');
    await saveAttachment(bob.profile, a!.id, out);
    expect(readFileSync(out).equals(testBytes(SIZE, 'clip.bin'))).toBe(true);
  });
});
