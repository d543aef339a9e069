import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportBackup } from '../../../electron/core/backup/export.ts';
import { runCli } from '../../support/cli.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';

// `sotto backup verify` reads a file and touches no profile, so it is the one
// command that runs without --profile; every other command says it needs one.

describe('the CLI without --profile', () => {
  it('verifies a backup file, and refuses profile commands with a usage error', async () => {
    const { profile } = await newProfile('Alice');
    const file = join(tempDir(), 'alice.age');
    const passphrase = 'a quiet harbour full of lanterns';
    await exportBackup(profile, file, { passphrase, scryptLogN: 12 });

    const env = { SOTTO_BACKUP_PASSPHRASE: passphrase, SOTTO_PROFILE: '' };
    const verified = await runCli(null, ['--json', 'backup', 'verify', file], { env });
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      ok: true,
      manifest: { accountId: profile.account.accountId },
    });

    const refused = await runCli(null, ['history', 'Bob'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--profile');
  });
});
