// Shared set-up for renderer tests: a fake bridge as `window.sotto`, a real
// Pinia (so store actions run against the fake), i18n, and an in-memory router.
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { createMemoryHistory, createRouter, type Router } from 'vue-router';
import { flushPromises, type VueWrapper } from '@vue/test-utils';
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

/**
 * Waits until `check` holds, polling every 20 ms, and fails with `what` after
 * `timeoutMs`. The budget is generous on purpose: a loaded CI machine may take
 * seconds for what takes milliseconds idle; a passing check returns at once.
 */
export async function waitFor(
  check: () => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** The passphrase meter's score once its dictionaries (a lazy import) have loaded. */
export async function waitForScore(
  wrapper: Pick<VueWrapper, 'get'>,
  selector = '[data-testid="passphrase-strength"]',
): Promise<string> {
  await waitFor(
    () => (wrapper.get(selector).attributes('data-score') ?? '') !== '',
    'the passphrase strength score',
  );
  return wrapper.get(selector).attributes('data-score') ?? '';
}

export { en };

/**
 * happy-dom has no layout engine: elements report no size and nothing scrolls
 * by itself. A virtualized history (1:1 or group) needs a viewport to render
 * rows, so the scroll container reports an 800 px clientHeight and each row
 * 64 px (what the virtualizer measures). Returns the function that restores
 * the real properties.
 */
export function stubHistoryLayout(): () => void {
  const client = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
  const offset = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'offsetHeight');
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains('history-scroll') ? 800 : 0;
    },
  });
  Object.defineProperty(HTMLElement.prototype, 'offsetHeight', {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains('history-row') ? 64 : 0;
    },
  });
  return () => {
    if (client) Object.defineProperty(HTMLElement.prototype, 'clientHeight', client);
    if (offset) Object.defineProperty(HTMLElement.prototype, 'offsetHeight', offset);
  };
}
