import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { addContactFromInvite } from '../../../electron/core/index.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// Someone who writes first, from an invite the receiver never saw: the
// receiver's contact record names no relay for them. Their file is fetched
// from the receiver's own relay, where their answers go too (a shared relay,
// the usual case); before, the download failed with UNKNOWN_CONTACT.

describe('a file from someone who wrote first', () => {
  it('downloads from this profile’s own relay and saves byte-identical', async () => {
    const relay = join(tempDir(), 'relay');
    const alice = await enginePerson('Alice', relay);
    const bob = await enginePerson('Bob', relay);
    addContactFromInvite(alice.profile, profileInvite(bob.profile)); // one way only
    const bytes = createHash('shake256', { outputLength: 90_000 }).update('first').digest();
    const source = join(tempDir(), 'notes.pdf');
    writeFileSync(source, bytes);
    await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [{ path: source }]);
    await alice.engine.sendOutbox();

    await bob.engine.receive({ firstWaitMs: 200, idleMs: 0 });
    const relayOfAlice = bob.profile.db
      .prepare('SELECT relay FROM contacts WHERE account_id = ?', { pluck: true })
      .get<string | null>([alice.profile.account.accountId]);
    expect(relayOfAlice).toBeNull();
    const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
    const [attachment] = attachmentsOf(bob.profile, { messageIds: ids });
    expect(attachment?.state).toBe('done');
    const out = join(tempDir(), 'saved.pdf');
    await saveAttachment(bob.profile, attachment!.id, out);
    expect(readFileSync(out).equals(bytes)).toBe(true);
  });
});
