import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { attachmentsOf, saveAttachment } from '../../electron/core/attachments/attachment-files.ts';
import type { EnginePerson } from './engines.ts';
import { tempDir } from './profiles.ts';

// The receiving end of an in-process attachment test: one receive pass, the
// attachment stored, its saved bytes.

/** `bob` receives until his one attachment is stored; its saved bytes. */
export async function receivedBytes(
  bob: Pick<EnginePerson, 'engine' | 'profile'>,
): Promise<Buffer> {
  await bob.engine.receive({ firstWaitMs: 500, idleMs: 0 });
  const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
  const [attachment] = attachmentsOf(bob.profile, { messageIds: ids });
  expect(attachment?.state).toBe('done');
  const out = join(tempDir(), 'saved.bin');
  await saveAttachment(bob.profile, attachment!.id, out);
  return readFileSync(out);
}
