import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import {
  ATTACHMENT_RELAY_KINDS,
  testBytes,
  testFile,
  useAttachmentRelays,
} from '../../support/attachment-relays.ts';
import {
  downloading,
  inTransit,
  killPastProgress,
  listedAttachments,
  savedAttachment,
} from '../../support/attachment-transfer.ts';
import { cli, cliPair, runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';

// kill -9 of the sender mid-upload and of the receiver mid-download, again
// and again: every run resumes from what the relay (upload) or the
// ciphertext temp file (download) already holds, and the file that finally
// arrives is byte-identical. Progress is watched from outside, on the files
// themselves; nothing in the product knows it is being tested.

const KILLS = 5;
const SIZE = 48 * 1024 * 1024;
const LENGTH = ciphertextSize(SIZE);

interface Run {
  /** Bytes held when the process was killed (undefined: it finished first). */
  readonly killedAt: number | undefined;
  /** The smallest size seen while it ran (a restart from zero would show here). */
  readonly lowest: number;
  readonly code: number | null;
}

/** Runs `args`, polling `probe`; kill -9 once the probe shows progress past `after` but not the end. */
async function runAndKill(
  dir: string,
  args: string[],
  probe: () => number,
  after: number,
): Promise<Run> {
  let kill: ((signal: NodeJS.Signals) => void) | undefined;
  const stop = killPastProgress(probe, after, LENGTH, () => {
    kill?.('SIGKILL');
    return kill !== undefined;
  });
  // stop() again after the run: sampling has ended, it tells what was seen.
  const { code } = await runCli(dir, args, { onSpawn: (k) => (kill = k) }).finally(stop);
  return { ...stop(), code };
}

const startRelay = useAttachmentRelays();

describe.each(ATTACHMENT_RELAY_KINDS)('kill -9 mid-transfer over a %s relay', (kind) => {
  it(`the sender killed ${KILLS}+ times mid-upload and the receiver ${KILLS}+ times mid-download: resumed, byte-identical`, async () => {
    const relay = await startRelay(kind);
    const root = tempDir();
    const { alice, bob } = await cliPair(root, relay.address);
    const path = testFile(root, 'video.bin', SIZE);
    const uploaded = () => [...relay.blobSizes().values()].reduce((a, b) => a + b, 0);

    // The message is composed while the relay is away: a send would otherwise upload
    // most of the file while sealing it, and a kill before the seal ended leaves no
    // message at all (seal-kill.test.ts). Here the whole upload is the job's to resume.
    await relay.down();
    await runCli(alice, ['send', 'Bob', '--file', path]);
    await relay.up();
    expect((await listedAttachments(alice, 'Bob')).map((a) => a.state)).toEqual(['uploading']);

    // Upload: `sync` again and again, each killed further along.
    const uploads: Run[] = [];
    const args = ['sync'];
    for (let last = 0; uploads.filter((r) => r.killedAt !== undefined).length < KILLS;) {
      const run = await runAndKill(alice, args, uploaded, last);
      uploads.push(run);
      if (run.killedAt === undefined && uploaded() < LENGTH && uploads.length < 20) {
        // Not due yet: the send's attempt while the relay was away set a backoff
        // (up to 1 s, jittered) that a folder relay's instant return can beat.
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      if (run.killedAt === undefined) break; // finished before a kill landed
      // One blob, never reserved again, never shrinking: the relay's prefix is kept.
      expect(relay.blobSizes().size).toBe(1);
      expect(run.lowest).toBeGreaterThanOrEqual(last);
      last = uploaded();
    }
    expect(uploads.filter((r) => r.killedAt !== undefined).length).toBeGreaterThanOrEqual(KILLS);
    await cli(alice, ['sync']);
    expect([...relay.blobSizes().values()]).toEqual([LENGTH]);

    // Download: `sync` on Bob's side, killed while the ciphertext temp file grows.
    const downloads: Run[] = [];
    for (let last = 0; downloads.filter((r) => r.killedAt !== undefined).length < KILLS;) {
      const run = await runAndKill(bob, ['sync'], () => downloading(bob), last);
      downloads.push(run);
      if (run.killedAt === undefined) break;
      if (downloads.length > 1) expect(run.lowest).toBeGreaterThanOrEqual(last);
      last = downloading(bob);
    }
    expect(downloads.filter((r) => r.killedAt !== undefined).length).toBeGreaterThanOrEqual(KILLS);
    await cli(bob, ['sync']);
    const [a] = await listedAttachments(bob, 'Alice');
    expect(a?.state).toBe('done');
    const saved = await savedAttachment(bob, a!.id, join(root, 'saved.bin'));
    expect(saved.equals(testBytes(SIZE, 'video.bin'))).toBe(true);
    // Nothing left in transit on either side.
    expect(inTransit(bob)).toEqual([]);
    expect(inTransit(alice)).toEqual([]);
  });
});
