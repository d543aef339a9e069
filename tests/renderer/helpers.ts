// Shared set-up for renderer tests: a fake bridge as `window.sotto`, a real
// Pinia (so store actions run against the fake), i18n, and an in-memory router.
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { createMemoryHistory, createRouter, type Router } from 'vue-router';
import { flushPromises } from '@vue/test-utils';
import { createAppI18n } from '../../renderer/src/i18n.ts';
import { installFakeBridge, type FakeBridge } from './fake-bridge.ts';
import en from '../../renderer/src/locales/en.json';

export interface TestContext {
  readonly fake: FakeBridge;
  readonly pinia: Pinia;
}

/** A fresh fake bridge and an active Pinia. */
export function setUp(): TestContext {
  const fake = installFakeBridge();
  const pinia = createPinia();
  setActivePinia(pinia);
  return { fake, pinia };
}

/** Plugins for mount(): i18n and (optionally) a router. */
export function plugins(pinia: Pinia, router?: Router) {
  return [pinia, createAppI18n(), ...(router ? [router] : [])];
}

/** A router with the given routes on memory history (components are stubs unless given). */
export function testRouter(routes: Parameters<typeof createRouter>[0]['routes']): Router {
  return createRouter({ history: createMemoryHistory(), routes });
}

/** Lets timers and promise chains run (for code that awaits bridge calls). */
export async function settle(): Promise<void> {
  await flushPromises();
  await flushPromises();
}

export { en };
