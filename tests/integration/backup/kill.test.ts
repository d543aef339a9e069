import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportBackup, Profile } from '../../../electron/core/index.ts';
import {
  addHistory,
  BACKUP_PASSPHRASE,
  profileDigests,
  TEST_SCRYPT_LOG_N,
} from '../../support/backup.ts';
import { CLI_PASSPHRASE, runCli } from '../../support/cli.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';

// R6 under fire: `sotto backup import` is killed at random moments. Whatever
// the moment, the profile afterwards is the old one or the fully restored
// one, opens cleanly and passes its integrity check: never a mix.

async function messagesOf(dir: string): Promise<{ count: number; digest: string }> {
  const profile = await Profile.open(dir, { passphrase: CLI_PASSPHRASE });
  try {
    await profile.verifyIntegrity();
    const d = profileDigests(profile.db);
    return { count: d.messageCount, digest: d.messages };
  } finally {
    await profile.close();
  }
}

/** Calls `then` once the import's new database file appears in `dir` (its second pass began). */
function whenRestoreStarts(dir: string, then: () => void): () => void {
  const timer = setInterval(() => {
    if (readdirSync(dir).some((name) => name.startsWith('sotto.db.restore-'))) {
      clearInterval(timer);
      then();
    }
  }, 2);
  return () => clearInterval(timer);
}

function importArgs(file: string): string[] {
  return ['backup', 'import', file];
}
const env = { SOTTO_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE };

describe('killing an import', () => {
  it('at random moments leaves either the old profile or the restored one, never a mix', async () => {
    const root = tempDir();
    const template = join(root, 'template');
    const profile = await Profile.create(template, {
      displayName: 'Kill',
      passphrase: CLI_PASSPHRASE,
      kdfCost: TEST_KDF,
    });
    // Two disjoint time ranges: both histories' outgoing messages share a sender, and
    // (sender, device, sent_at) is unique, so overlapping seconds would merge rows.
    const startAt = Date.now() - 50_000_000;
    addHistory(profile, 20_000, { contacts: 4, seed: 1, startAt });
    await profile.close();
    const old = await messagesOf(template);

    // The backup is of a later state of the same account: 20,000 messages more.
    const later = join(root, 'later');
    cpSync(template, later, { recursive: true });
    const grown = await Profile.open(later, { passphrase: CLI_PASSPHRASE });
    addHistory(grown, 20_000, { contacts: 4, seed: 2, startAt: startAt + 20_001_000 });
    const file = join(root, 'later.age');
    await exportBackup(grown, file, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    await grown.close();
    const restored = await messagesOf(later);
    expect(restored.count).toBe(old.count + 20_000);

    // An uninterrupted run, to know how long one takes.
    const full = join(root, 'full');
    cpSync(template, full, { recursive: true });
    let secondPassAt = 0;
    const stop = whenRestoreStarts(full, () => (secondPassAt = Date.now()));
    const done = await runCli(full, importArgs(file), { env });
    stop();
    const secondPass = Date.now() - secondPassAt;
    expect(done.code, done.stderr).toBe(0);
    expect(secondPassAt).toBeGreaterThan(0);
    expect(await messagesOf(full)).toEqual(restored);

    const outcomes: string[] = [];
    for (let run = 0; run < 6; run++) {
      const dir = join(root, `run-${run}`);
      cpSync(template, dir, { recursive: true });
      // Somewhere in the second pass (writing the new database) or the swap that ends it.
      const delay = Math.round(secondPass * Math.random() * 1.1);
      const signal = run === 5 ? 'SIGINT' : 'SIGKILL'; // the last one cancels instead of crashing
      let stopWatching = () => {};
      const result = await runCli(dir, importArgs(file), {
        env,
        onSpawn: (kill) =>
          (stopWatching = whenRestoreStarts(dir, () => setTimeout(() => kill(signal), delay))),
      });
      stopWatching();
      const state = await messagesOf(dir);
      const which =
        state.digest === old.digest ? 'old' : state.digest === restored.digest ? 'restored' : 'MIX';
      outcomes.push(`${signal}@${delay}ms→${which}(exit ${result.code ?? result.signal})`);
      expect(which, outcomes.join(', ')).not.toBe('MIX');
      if (which === 'old' && result.code === 1) expect(result.stderr).toContain('CANCELLED');
      // A finished or cancelled import leaves only the profile's own files.
      if (result.code !== null)
        expect(readdirSync(dir).sort()).toEqual(['sotto.db', 'sotto.key', 'sotto.lock']);
    }
    // Re-running the import over a killed one finishes it (and clears its leftovers).
    const again = join(root, 'run-0');
    expect((await runCli(again, importArgs(file), { env })).code).toBe(0);
    expect(await messagesOf(again)).toEqual(restored);
    expect(readdirSync(again).sort()).toEqual(['sotto.db', 'sotto.key', 'sotto.lock']);
  });
});
