import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atRestLayout } from '../../../electron/core/attachments/at-rest.ts';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import {
  ATTACHMENT_RELAY_KINDS,
  testBytes,
  testFile,
  useAttachmentRelays,
} from '../../support/attachment-relays.ts';
import {
  inTransit,
  killPastProgress,
  listedAttachments,
  savedAttachment,
} from '../../support/attachment-transfer.ts';
import { cli, cliPair, runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';

// kill -9 of `sotto send --file` while the file is being sealed, which is
// also while its upload follows the seal (compose-seal.ts): the row is committed
// only after the seal, so each kill leaves no message at all (its files are
// deleted at the next open; the partial blob is an orphan the relay's TTL
// deletes), and the next send still goes out whole. A kill after the commit
// is kill-resume.test.ts's. Progress is watched from outside, on the growing
// staged stored copy (compose writes no ciphertext temp file).

const SIZE = 24 * 1024 * 1024;
/** Where each run is killed, as a share of the ciphertext sealed. */
const POINTS = [0.05, 0.25, 0.45, 0.65, 0.85];

/** Size of the largest `.stage` file (the stored copy being sealed); 0 when there is none. */
function sealing(profileDir: string): number {
  const tmp = join(profileDir, 'attachments', 'tmp');
  try {
    return Math.max(
      0,
      ...readdirSync(tmp)
        .filter((n) => n.endsWith('.stage'))
        .map((n) => statSync(join(tmp, n)).size),
    );
  } catch {
    return 0;
  }
}

const startRelay = useAttachmentRelays();

describe.each(ATTACHMENT_RELAY_KINDS)('kill -9 of the sender while sealing, %s relay', (kind) => {
  it(`killed at ${POINTS.length} points of the seal: no message each time, files cleaned at restart, the next send whole`, async () => {
    const relay = await startRelay(kind);
    const root = tempDir();
    const { alice, bob } = await cliPair(root, relay.address);
    for (const [i, point] of POINTS.entries()) {
      const size = SIZE + i * 4096;
      const path = testFile(root, `file-${i}.bin`, size);
      const length = atRestLayout(size).length;
      let kill: ((signal: NodeJS.Signals) => void) | undefined;
      const stop = killPastProgress(
        () => sealing(alice),
        Math.floor(point * length),
        length,
        () => {
          kill?.('SIGKILL');
          return kill !== undefined;
        },
      );
      await runCli(alice, ['send', 'Bob', '--file', path], { onSpawn: (k) => (kill = k) }).finally(
        stop,
      );
      expect(stop().killedAt, `run ${i} killed mid-seal`).toBeDefined();
      // The restart: a committed message is finished, an uncommitted one's files are deleted.
      await cli(alice, ['sync']);
      expect(inTransit(alice)).toEqual([]);
    }
    // Every kill landed before the seal ended, so before the row was committed: no message.
    expect(await listedAttachments(alice, 'Bob')).toEqual([]);
    // Yet the uploads had begun: their partial blobs are on the relay, orphans its TTL deletes.
    const partial = [...relay.blobSizes().values()].filter((s) => s > 0);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.every((s) => s < ciphertextSize(SIZE))).toBe(true);

    // A send that is not killed goes out whole, and is the one file Bob gets.
    const last = SIZE + POINTS.length * 4096;
    await cli(alice, ['send', 'Bob', '--file', testFile(root, 'last.bin', last)]);
    await cli(bob, ['sync']);
    const [got, ...more] = await listedAttachments(bob, 'Alice');
    expect(more).toEqual([]);
    expect(got).toMatchObject({ state: 'done', size: last });
    const saved = await savedAttachment(bob, got!.id, join(root, 'saved.bin'));
    expect(saved.equals(testBytes(last, 'last.bin'))).toBe(true);
    expect(inTransit(alice)).toEqual([]);
  });
});
