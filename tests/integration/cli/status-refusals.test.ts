import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/index.ts';
import { countTrustRefusal } from '../../../electron/core/crypto/trust-refusals.ts';
import { CLI_PASSPHRASE, runCli } from '../../support/cli.ts';
import { tempDir, TEST_KDF } from '../../support/profiles.ts';

describe('sotto status', () => {
  it('shows the trust refusal counters by code (and none when nothing was refused)', async () => {
    const dir = join(tempDir(), 'me');
    const relay = join(tempDir(), 'relay');
    mkdirSync(relay);
    const me = await Profile.create(dir, {
      displayName: 'Me',
      passphrase: CLI_PASSPHRASE,
      kdfCost: TEST_KDF,
    });
    me.db.prepare("INSERT INTO settings (key, value) VALUES ('relay', ?)").run([relay]);
    await me.close();
    const clean = await runCli(dir, ['--json', 'status']);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({
      trustRefusals: { 'identity.forged': 0, 'move.bad-signature': 0 },
    });

    const reopened = await Profile.open(dir, { passphrase: CLI_PASSPHRASE });
    reopened.commit(undefined, (db) => {
      countTrustRefusal(db, 'identity.forged', Date.now(), 3);
      countTrustRefusal(db, 'move.replayed', Date.now());
    });
    await reopened.close();
    const text = await runCli(dir, ['status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('refused  identity.forged 3, move.replayed 1');
  });
});
