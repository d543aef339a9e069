import { afterEach } from 'vitest';
import { createCoreService } from '../../electron/core/service/app-service.ts';
import type { CoreService } from '../../electron/core/service/types.ts';
import { TEST_KDF, tempDir } from './profiles.ts';
import { callService } from './service-call.ts';

// The app's side of service tests: a real core service with sync off (the
// test drives any relay traffic itself), its profile "Me" just created.

/** The passphrase of the profile `useOfflineServices` creates. */
export const SERVICE_PASSPHRASE = 'a long passphrase for tests';

/** A starter of offline services with profile "Me" on `relay`, each closed by an afterEach it registers. */
export function useOfflineServices(): (relay: string) => Promise<CoreService> {
  const services: CoreService[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
  });
  return async (relay) => {
    const service = createCoreService({ profileDir: tempDir(), kdfCost: TEST_KDF, sync: false });
    services.push(service);
    await callService(service, 'profile:create', {
      displayName: 'Me',
      passphrase: SERVICE_PASSPHRASE,
      useKeychain: false,
      relay,
    });
    return service;
  };
}
