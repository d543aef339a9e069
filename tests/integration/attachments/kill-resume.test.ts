import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import {
  ATTACHMENT_RELAY_KINDS,
  type AttachmentRelay,
  startAttachmentRelay,
  testBytes,
  testFile,
} from '../../support/attachment-relays.ts';
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
function runAndKill(dir: string, args: string[], probe: () => number, after: number): Promise<Run> {
  let kill: ((signal: NodeJS.Signals) => void) | undefined;
  let killedAt: number | undefined;
  let lowest = Number.POSITIVE_INFINITY;
  const timer = setInterval(() => {
    const size = probe();
    if (size > 0) lowest = Math.min(lowest, size);
    if (killedAt === undefined && kill && size > after && size < LENGTH) {
      killedAt = size;
      kill('SIGKILL');
    }
  }, 2);
  return runCli(dir, args, { onSpawn: (k) => (kill = k) })
    .then((result) => ({ killedAt, lowest, code: result.code }))
    .finally(() => clearInterval(timer));
}

function downloading(dir: string): number {
  const tmp = join(dir, 'attachments', 'tmp');
  try {
    return readdirSync(tmp)
      .filter((n) => n.endsWith('.down'))
      .reduce((sum, n) => sum + statSync(join(tmp, n)).size, 0);
  } catch {
    return 0;
  }
}

const relays: AttachmentRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
});

describe.each(ATTACHMENT_RELAY_KINDS)('kill -9 mid-transfer over a %s relay', (kind) => {
  it(`the sender killed ${KILLS}+ times mid-upload and the receiver ${KILLS}+ times mid-download: resumed, byte-identical`, async () => {
    const relay = await startAttachmentRelay(kind);
    relays.push(relay);
    const root = tempDir();
    const { alice, bob } = await cliPair(root, relay.address);
    const path = testFile(root, 'video.bin', SIZE);
    const uploaded = () => [...relay.blobSizes().values()].reduce((a, b) => a + b, 0);

    // Upload: the first run is `send`, the next ones `sync`, each killed further along.
    const uploads: Run[] = [];
    let args = ['send', 'Bob', '--file', path];
    for (let last = 0; uploads.filter((r) => r.killedAt !== undefined).length < KILLS;) {
      const run = await runAndKill(alice, args, uploaded, last);
      uploads.push(run);
      args = ['sync'];
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
    const [a] = JSON.parse(await cli(bob, ['--json', 'attachments', 'Alice'])) as {
      id: number;
      state: string;
    }[];
    expect(a?.state).toBe('done');
    const out = join(root, 'saved.bin');
    await cli(bob, ['attachment', 'save', String(a!.id), out]);
    expect(readFileSync(out).equals(testBytes(SIZE, 'video.bin'))).toBe(true);
    // Nothing left in transit on either side.
    expect(readdirSync(join(bob, 'attachments', 'tmp'))).toEqual([]);
    expect(readdirSync(join(alice, 'attachments', 'tmp'))).toEqual([]);
  });
});
