import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { methods, type MethodName, type MethodOutput } from '../../../shared/ipc/contract.ts';
import { createCoreService } from '../../../electron/core/service/app-service.ts';
import type { CoreService } from '../../../electron/core/service/types.ts';
import { rejectedCode } from '../../support/errors.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';

// The service's relay setting (what the app's first run and Settings call):
// the address rules and the insecure-relay consent, before anything exists.

const services: CoreService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

function service(dir = join(tempDir(), 'profile')) {
  const core = createCoreService({ profileDir: dir, kdfCost: TEST_KDF });
  services.push(core);
  const call = <M extends MethodName>(method: M, input: unknown = {}): Promise<MethodOutput<M>> =>
    core.call(method, methods[method].input.parse(input) as never);
  return { dir, call };
}

const create = { displayName: 'Ada', passphrase: 'a fine passphrase', useKeychain: false };

describe('service relay setting', () => {
  it('refuses an unencrypted relay on another host without consent, creating no profile', async () => {
    const { dir, call } = service();
    expect(
      await rejectedCode(() =>
        call('profile:create', { ...create, relay: 'ws://192.0.2.10:8787' }),
      ),
    ).toBe('INSECURE_RELAY');
    expect(existsSync(dir)).toBe(false);
    expect((await call('app:state')).phase).toBe('no-profile');
  });

  it('refuses a network path as the relay, creating nothing', async () => {
    const { dir, call } = service();
    expect(
      await rejectedCode(() => call('profile:create', { ...create, relay: '\\\\server\\share' })),
    ).toBe('RELAY_ADDRESS_REFUSED');
    expect(existsSync(dir)).toBe(false);
  });

  it('creates the profile with consent; changing to another insecure relay needs consent again', async () => {
    const { call } = service();
    await call('profile:create', {
      ...create,
      relay: 'ws://192.0.2.10:8787',
      allowInsecureRelay: true,
    });
    expect((await call('app:state')).phase).toBe('unlocked');
    expect(await rejectedCode(() => call('settings:set', { relay: 'ws://192.0.2.11:8787' }))).toBe(
      'INSECURE_RELAY',
    );
    expect(
      await rejectedCode(() => call('settings:set', { relay: '//attacker.example/share' })),
    ).toBe('RELAY_ADDRESS_REFUSED');
  });

  it('gives an invite naming the folder relay’s id right after first run', async () => {
    const { call } = service();
    const relay = join(tempDir(), 'relay');
    await call('profile:create', { ...create, relay });
    const { link } = await call('profile:invite');
    expect(link).toMatch(/^sotto:\/\/invite\/2#/);
    expect(existsSync(join(relay, 'relay.json'))).toBe(true);
  });

  it('an invite needs the relay to have been reached once: RELAY_UNAVAILABLE while it never was', async () => {
    const { call } = service();
    await call('profile:create', { ...create, relay: 'ws://127.0.0.1:9' });
    expect(await rejectedCode(() => call('profile:invite'))).toBe('RELAY_UNAVAILABLE');
  });
});
