import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import { type AppWindow, launchChromium, openApp, serveRenderer } from './app-window.ts';

// The e2e harness: vitest hooks and form helpers over app-window.ts (the app
// in Chromium on a real core), which the benchmarks use without vitest.

export {
  ARTIFACTS,
  type AppWindow,
  buildRenderer,
  launchChromium,
  type MediaRequest,
  openApp,
  screenshot,
  serveRenderer,
} from './app-window.ts';
/** What an e2e file shares: the built renderer being served, one Chromium, optionally a relay. */
export interface Suite {
  readonly relay: RelayProcess;
  /** Opens the app on `profileDir`; closed with the suite. */
  open(profileDir: string): Promise<AppWindow>;
  /** Closes one window (its core too) before the suite ends: the user quits the app. */
  close(window: AppWindow): Promise<void>;
}

/**
 * Registers beforeAll/afterAll hooks that serve the renderer (built once per
 * run by the e2e project's globalSetup, renderer-build.ts), launch Chromium
 * and start a relay process, and returns the suite handle.
 * `prepare` runs first (e.g. to seed a profile before anything starts).
 */
export function useSuite(prepare?: () => Promise<void>): Suite {
  let relay: RelayProcess | undefined;
  let browser: Browser | undefined;
  let served: { url: string; close: () => Promise<void> } | undefined;
  const windows: AppWindow[] = [];
  beforeAll(async () => {
    await prepare?.();
    relay = await startRelayProcess(tempDir('sotto-relay-'));
    served = await serveRenderer();
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    for (const w of windows.splice(0)) await w.close();
    await browser?.close();
    await served?.close();
    await relay?.stop();
  });
  return {
    get relay() {
      if (!relay) throw new Error('the suite has not started');
      return relay;
    },
    async open(profileDir) {
      if (!browser || !served) throw new Error('the suite has not started');
      const w = await openApp(browser, served.url, profileDir);
      windows.push(w);
      return w;
    },
    async close(w) {
      windows.splice(windows.indexOf(w), 1);
      await w.close();
    },
  };
}

/**
 * Waits until the strength meter has scored the passphrase: its dictionaries
 * load lazily, and until then the form refuses the passphrase as too weak (on
 * a busy machine that takes seconds).
 */
export async function waitForStrength(page: Page): Promise<void> {
  await expect
    .poll(() => page.getByTestId('passphrase-strength').first().getAttribute('data-score'), {
      timeout: 60_000,
    })
    .toMatch(/^\d$/);
}

/** Fills the first-run form and creates the profile. */
export async function createProfile(
  page: Page,
  name: string,
  passphrase: string,
  relay: string,
): Promise<void> {
  await page.getByTestId('welcome-name').fill(name);
  await page.getByTestId('welcome-passphrase').fill(passphrase);
  await page.getByTestId('welcome-passphrase-confirm').fill(passphrase);
  await page.getByTestId('welcome-relay').fill(relay);
  await waitForStrength(page);
  await page.getByTestId('welcome-create').click();
}

/** The invite link first run shows, once it has loaded (the field exists before its value arrives). */
export async function readInvite(page: Page): Promise<string> {
  const field = page.getByTestId('invite-link');
  let invite = '';
  await expect
    .poll(
      async () => {
        invite = (await field.inputValue()).trim();
        return invite;
      },
      { timeout: 20_000 },
    )
    .toMatch(/^sotto:\/\/invite\/2#/);
  return invite;
}
