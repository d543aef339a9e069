import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { cli, cliInit } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';
import { type AppWindow, createProfile, readInvite, type Suite } from './harness.ts';

// The steps that bring an e2e test to an open conversation and move through
// its history: first run, adding a contact from an invite (in the app or
// from a CLI member), unlocking after a restart, and scrolling a paged
// history while waiting for what the scroll loads.

/** Generous: CLI runs and the relay share a busy 2-core machine. */
const WAIT = { timeout: 90_000, interval: 500 };

/** First run: creates the profile, waits for its invite link and leaves the invite screen; the link. */
export async function firstRun(
  page: Page,
  name: string,
  passphrase: string,
  relay: string,
): Promise<string> {
  await createProfile(page, name, passphrase, relay);
  const invite = await readInvite(page);
  await page.getByTestId('invite-continue').click();
  return invite;
}

/** Adds a contact from `invite` with the add-contact form (the app then opens the conversation). */
export async function addFromInvite(page: Page, invite: string): Promise<void> {
  await page.getByTestId('add-contact-open').click();
  await page.getByTestId('add-contact-invite').fill(invite);
  await page.getByTestId('add-contact-submit').click();
}

/**
 * A CLI member `name` at `dir` on `relay` who adds the app's `appInvite`
 * and is added back in the app; resolves once the app shows the conversation.
 */
async function addCliContact(
  page: Page,
  relay: string,
  appInvite: string,
  dir: string,
  name: string,
): Promise<void> {
  await cliInit(dir, name, relay);
  await cli(dir, ['contact', 'add', appInvite]);
  await addFromInvite(page, (await cli(dir, ['invite'])).trim());
  await expect.poll(() => page.getByTestId('chat-view').isVisible(), WAIT).toBe(true);
}

/**
 * Alice in the app (a new window on <root>/alice) past first run, with a CLI
 * contact for each of `names` at <root>/<name in lower case>, in that order;
 * her invite link for anyone else who adds her.
 */
export async function aliceWithCliContacts<const Names extends readonly string[]>(
  suite: Suite,
  passphrase: string,
  names: Names,
): Promise<{
  app: AppWindow;
  root: string;
  dirs: { [K in keyof Names]: string };
  invite: string;
}> {
  const root = tempDir();
  const app = await suite.open(join(root, 'alice'));
  const invite = await firstRun(app.page, 'Alice', passphrase, suite.relay.url);
  const dirs: string[] = [];
  for (const name of names) {
    const dir = join(root, name.toLowerCase());
    await addCliContact(app.page, suite.relay.url, invite, dir, name);
    dirs.push(dir);
  }
  return { app, root, dirs: dirs as { [K in keyof Names]: string }, invite };
}

/** Unlocks the app with `passphrase` (what a restarted app asks first). */
export async function unlock(page: Page, passphrase: string): Promise<void> {
  await page.getByTestId('unlock-passphrase').fill(passphrase);
  await page.getByTestId('unlock-submit').click();
}

/**
 * Polls `probe`, scrolling `scroller` to its top (older pages) or bottom
 * (newer ones) before each reading, so each poll asks for the next page;
 * the caller asserts on it like any expect.poll.
 */
export function pollWhileScrolling<T>(
  scroller: Locator,
  edge: 'top' | 'bottom',
  probe: () => Promise<T>,
  options?: { timeout?: number; interval?: number },
) {
  return expect.poll(async () => {
    await scroller.evaluate(
      (el, toTop) => el.scrollTo({ top: toTop ? 0 : el.scrollHeight }),
      edge === 'top',
    );
    return probe();
  }, options);
}
