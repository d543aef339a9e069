import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { methods, type MethodName, type MethodOutput } from '../../../shared/ipc/contract.ts';
import { createCoreService } from '../../../electron/core/service/app-service.ts';
import type { CoreService } from '../../../electron/core/service/types.ts';
import { profilePaths } from '../../../electron/core/profile/paths.ts';
import { Profile } from '../../../electron/core/profile/profile.ts';
import { setSetting } from '../../../electron/core/profile/settings.ts';
import { readSettings } from '../../../electron/core/profile/app-settings.ts';
import { rejectedCode } from '../../support/errors.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';

// The app's first run, passphrase change and settings under the core's one
// rule (issue 9 §3–4), through the service main runs, real SQLCipher, no relay.

const STRONG = 'quiet harbour lanterns orbit';
const services: CoreService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

function service(dir = join(tempDir(), 'profile')) {
  const core = createCoreService({ profileDir: dir, kdfCost: TEST_KDF, sync: false });
  services.push(core);
  /** Calls with the input parsed by the contract, as main does. */
  const call = <M extends MethodName>(method: M, input: unknown = {}): Promise<MethodOutput<M>> =>
    core.call(method, methods[method].input.parse(input) as never);
  return { dir, call };
}

const create = (displayName: string, passphrase: string) => ({
  displayName,
  passphrase,
  useKeychain: false,
  relay: '/tmp/sotto-unused-relay',
});

describe('first run (profile:create)', () => {
  it('refuses a weak passphrase with WEAK_PASSPHRASE, whatever its length, and creates nothing', async () => {
    const { dir, call } = service();
    for (const weak of ['password', '12345678901234', 'aaaaaaaaaaaaaaaa', 'Annabelle1']) {
      expect(await rejectedCode(() => call('profile:create', create('Annabelle', weak)))).toBe(
        'WEAK_PASSPHRASE',
      );
    }
    expect(existsSync(dir)).toBe(false);
    expect(await call('app:state')).toMatchObject({ phase: 'no-profile' });
  });

  it('refuses an over-long, blank or hostile name with INVALID_NAME, and stores a trimmed one', async () => {
    const { dir, call } = service();
    for (const name of ['n'.repeat(129), 'n'.repeat(200), '   ', 'Ann\u202eevil']) {
      expect(await rejectedCode(() => call('profile:create', create(name, STRONG)))).toBe(
        'INVALID_NAME',
      );
    }
    expect(existsSync(profilePaths(dir).keyFile)).toBe(false);
    expect(await call('profile:create', create('  Ann  ', STRONG))).toMatchObject({
      displayName: 'Ann',
    });
  });
});

describe('profile:change-passphrase', () => {
  it('refuses a weak new passphrase (WEAK_PASSPHRASE); the old one still unlocks', async () => {
    const { dir, call } = service();
    await call('profile:create', create('Ann', STRONG));
    const keyFile = readFileSync(profilePaths(dir).keyFile);
    expect(
      await rejectedCode(() =>
        call('profile:change-passphrase', { current: STRONG, next: 'password1' }),
      ),
    ).toBe('WEAK_PASSPHRASE');
    expect(
      await rejectedCode(() =>
        call('profile:change-passphrase', { current: STRONG, next: 'Ann Ann Ann' }),
      ),
    ).toBe('WEAK_PASSPHRASE');
    expect(readFileSync(profilePaths(dir).keyFile)).toEqual(keyFile);
    await call('profile:lock');
    expect(await call('profile:unlock', { passphrase: STRONG })).toMatchObject({
      phase: 'unlocked',
    });
  });
});

describe('notification content setting', () => {
  it("defaults to 'name', stores each choice, and refuses anything else at the contract", async () => {
    const { call } = service();
    await call('profile:create', create('Ann', STRONG));
    expect(await call('settings:get')).toMatchObject({
      notificationContent: 'name',
      notifications: true,
      allowInsecureRelay: false,
    });
    for (const choice of ['name-and-text', 'nothing', 'name'] as const) {
      expect(await call('settings:set', { notificationContent: choice })).toMatchObject({
        notificationContent: choice,
      });
      expect(await call('settings:get')).toMatchObject({ notificationContent: choice });
    }
    for (const bad of ['text', '', null, 1, 'NAME']) {
      expect(methods['settings:set'].input.safeParse({ notificationContent: bad }).success).toBe(
        false,
      );
    }
  });

  it("falls back to 'name' when the stored value is damaged or hostile, never to showing the text", async () => {
    const profile = await Profile.create(join(tempDir(), 'profile'), {
      displayName: 'Ann',
      passphrase: STRONG,
      kdfCost: TEST_KDF,
    });
    try {
      for (const stored of [
        '"name-and-text "',
        '"everything"',
        'true',
        '{"v":"name-and-text"}',
        'not json',
        '""',
      ]) {
        profile.commit(undefined, (db) => setSetting(db, 'ui.notificationContent', stored));
        expect(readSettings(profile.db).notificationContent).toBe('name');
      }
    } finally {
      await profile.close();
    }
  });

  it('survives a restart (stored in the encrypted database)', async () => {
    const first = service();
    await first.call('profile:create', create('Ann', STRONG));
    await first.call('settings:set', { notificationContent: 'nothing' });
    await services.splice(0)[0]!.close();
    const second = service(first.dir);
    await second.call('profile:unlock', { passphrase: STRONG });
    expect(await second.call('settings:get')).toMatchObject({ notificationContent: 'nothing' });
  });
});
