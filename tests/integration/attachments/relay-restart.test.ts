import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import {
  downloading,
  inTransit,
  killPastProgress,
  listedAttachments,
  savedAttachment,
  watchLowest,
} from '../../support/attachment-transfer.ts';
import { addContactFromInvite, Profile } from '../../../electron/core/index.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { pinHomeRelayId, setHomeRelay } from '../../../electron/core/sync/home-relay-setting.ts';
import { cli, CLI_PASSPHRASE, runCli } from '../../support/cli.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';
import { relayDataDir } from '../../support/relay-client.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// The relay process dies mid-upload and again mid-download (SIGKILL, the
// harshest stop) and comes back on the same data directory and port: the CLI
// resumes each transfer from what is already there (the relay's stored prefix,
// the receiver's ciphertext temp file), never from zero, and the file that
// arrives is byte-identical. Progress is watched on the files themselves.

const SIZE = 16 * 1024 * 1024;
const LENGTH = ciphertextSize(SIZE);

let relay: RelayProcess | undefined;
afterEach(async () => {
  await relay?.stop();
  relay = undefined;
});

/**
 * Alice and Bob as contacts on `relay`, made in-process at the test KDF cost
 * (the CLI's own `init` costs seconds each on a busy machine); every transfer
 * below runs in CLI processes.
 */
async function pair(root: string, relay: RelayProcess): Promise<{ alice: string; bob: string }> {
  const dirs = { alice: join(root, 'alice'), bob: join(root, 'bob') };
  const profiles = await Promise.all(
    (['Alice', 'Bob'] as const).map(async (name) => {
      const profile = await Profile.create(dirs[name === 'Alice' ? 'alice' : 'bob'], {
        displayName: name,
        passphrase: CLI_PASSPHRASE,
        kdfCost: TEST_KDF,
      });
      setHomeRelay(profile, relay.url);
      // What the CLI's first connection would pin; invites carry it.
      pinHomeRelayId(profile, relay.relayId);
      return profile;
    }),
  );
  const [alice, bob] = profiles as [Profile, Profile];
  addContactFromInvite(alice, profileInvite(bob));
  addContactFromInvite(bob, profileInvite(alice));
  for (const profile of profiles) await profile.close();
  return dirs;
}

/** Runs `sync` until `done()` (a transfer that failed while the relay was down waits out a short backoff). */
async function syncUntil(profile: string, done: () => boolean | Promise<boolean>): Promise<void> {
  for (let runs = 0; runs < 10 && !(await done()); runs++) await cli(profile, ['sync']);
  expect(await done()).toBe(true);
}

/** Bytes of blob files the relay holds under `data`. */
function stored(data: string): number {
  try {
    const dir = join(data, 'blobs');
    return readdirSync(dir)
      .filter((n) => /^[0-9a-f]+$/.test(n))
      .reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
  } catch {
    return 0;
  }
}

/**
 * Runs the CLI with `args`; once `probe` passes `after` (and before the end),
 * kills the relay with SIGKILL. Resolves with the probe's value at the kill
 * (undefined if the transfer finished first) once the CLI has exited.
 */
async function killRelayMidway(
  profile: string,
  args: string[],
  probe: () => number,
  after: number,
): Promise<number | undefined> {
  const stop = killPastProgress(probe, after, LENGTH, () => {
    if (relay) process.kill(relay.pid, 'SIGKILL');
    return relay !== undefined;
  });
  await runCli(profile, args).finally(stop);
  return stop().killedAt;
}

describe('relay restarted mid-transfer', () => {
  it('upload and download each resume after the relay process is killed and started again on the same data and port', async () => {
    const data = relayDataDir();
    relay = await startRelayProcess(data);
    const port = relay.port;
    const root = tempDir();
    const { alice, bob } = await pair(root, relay);
    // Bob's first sync registers his delivery token and publishes his keys, so Alice can reach him.
    await cli(bob, ['sync']);
    const path = testFile(root, 'film.bin', SIZE);

    // Mid-upload: the relay dies with part of the blob stored.
    const upAt = await killRelayMidway(
      alice,
      ['send', 'Bob', '--file', path],
      () => stored(data),
      LENGTH / 8,
    );
    expect(upAt).toBeDefined();
    await relay.stop();
    const prefix = stored(data);
    expect(prefix).toBeGreaterThan(0);
    expect(prefix).toBeLessThan(LENGTH);
    relay = await startRelayProcess(data, { port });
    const stopWatching = watchLowest(() => stored(data), false);
    let lowest: number;
    try {
      await syncUntil(alice, () => stored(data) === LENGTH);
    } finally {
      lowest = stopWatching();
    }
    // Resumed from the stored prefix: the blob never went back below it.
    expect(lowest).toBeGreaterThanOrEqual(prefix);
    expect(stored(data)).toBe(LENGTH);

    // Mid-download: the relay dies while Bob's ciphertext temp file grows.
    const downAt = await killRelayMidway(bob, ['sync'], () => downloading(bob), LENGTH / 8);
    expect(downAt).toBeDefined();
    await relay.stop();
    const held = downloading(bob);
    expect(held).toBeGreaterThan(0);
    relay = await startRelayProcess(data, { port });
    const stopWatchingDown = watchLowest(() => downloading(bob), true);
    const listed = () => listedAttachments(bob, 'Alice');
    let lowestDown: number;
    try {
      await syncUntil(bob, async () => (await listed())[0]?.state === 'done');
    } finally {
      lowestDown = stopWatchingDown();
    }
    if (Number.isFinite(lowestDown)) expect(lowestDown).toBeGreaterThanOrEqual(held);
    const [a] = await listed();
    const saved = await savedAttachment(bob, a!.id, join(root, 'saved.bin'));
    expect(saved.equals(testBytes(SIZE, 'film.bin'))).toBe(true);
    expect(inTransit(bob)).toEqual([]);
    expect(inTransit(alice)).toEqual([]);
  }, 60_000);
});
