import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ATTACHMENT_BYTES } from '../../../shared/protocol/attachment.ts';
import {
  ATTACHMENT_RELAY_KINDS,
  type AttachmentRelay,
  startAttachmentRelay,
  testBytes,
  testFile,
} from '../../support/attachment-relays.ts';
import { cli, cliPair } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';

// The largest file a sender may attach (100 MiB), end to end between CLI
// processes: in the `slow` project (about a minute of encryption and copying).

const relays: AttachmentRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
});

describe.each(ATTACHMENT_RELAY_KINDS)('a 100 MiB attachment over a %s relay', (kind) => {
  it('arrives byte-identical', async () => {
    const relay = await startAttachmentRelay(kind);
    relays.push(relay);
    const root = tempDir();
    const { alice, bob } = await cliPair(root, relay.address);
    const path = testFile(root, 'max.bin', MAX_ATTACHMENT_BYTES);
    await cli(alice, ['send', 'Bob', '--file', path]);
    await cli(bob, ['sync']);
    const [a] = JSON.parse(await cli(bob, ['--json', 'attachments', 'Alice'])) as {
      id: number;
      state: string;
      size: number;
    }[];
    expect(a).toMatchObject({ state: 'done', size: MAX_ATTACHMENT_BYTES });
    const out = join(root, 'saved.bin');
    await cli(bob, ['attachment', 'save', String(a!.id), out]);
    expect(readFileSync(out).equals(testBytes(MAX_ATTACHMENT_BYTES, 'max.bin'))).toBe(true);
  });
});
