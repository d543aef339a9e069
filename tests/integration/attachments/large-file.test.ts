import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ATTACHMENT_BYTES } from '../../../shared/protocol/attachment.ts';
import {
  ATTACHMENT_RELAY_KINDS,
  testBytes,
  testFile,
  useAttachmentRelays,
} from '../../support/attachment-relays.ts';
import { listedAttachments, savedAttachment } from '../../support/attachment-transfer.ts';
import { cli, cliPair } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';

// The largest file a sender may attach (100 MiB), end to end between CLI
// processes: in the `slow` project (about a minute of encryption and copying).

const startRelay = useAttachmentRelays();

describe.each(ATTACHMENT_RELAY_KINDS)('a 100 MiB attachment over a %s relay', (kind) => {
  it('arrives byte-identical', async () => {
    const relay = await startRelay(kind);
    const root = tempDir();
    const { alice, bob } = await cliPair(root, relay.address);
    const path = testFile(root, 'max.bin', MAX_ATTACHMENT_BYTES);
    await cli(alice, ['send', 'Bob', '--file', path]);
    await cli(bob, ['sync']);
    const [a] = await listedAttachments(bob, 'Alice');
    expect(a).toMatchObject({ state: 'done', size: MAX_ATTACHMENT_BYTES });
    const saved = await savedAttachment(bob, a!.id, join(root, 'saved.bin'));
    expect(saved.equals(testBytes(MAX_ATTACHMENT_BYTES, 'max.bin'))).toBe(true);
  });
});
