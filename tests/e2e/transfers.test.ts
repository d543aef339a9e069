import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { cli, cliInit } from '../support/cli.ts';
import { testFile } from '../support/attachment-relays.ts';
import { tempDir } from '../support/profiles.ts';
import { expectAccessible } from './support/axe.ts';
import { createProfile, readInvite, screenshot, useSuite } from './support/harness.ts';

// Transfers the user controls, in the app against a CLI contact through one
// real relay process: Alice lowers the auto-download limit in Settings, Bob's
// CLI sends an image above it, the app shows "Download <size>", a click
// downloads it with progress events and the image decodes; then Alice sends
// a large file through the Attach button and cancels it: the bubble says it
// was not sent and Bob's CLI never receives it.

const suite = useSuite();
const POLL = { timeout: 90_000, interval: 500 };
/** Two profiles, CLI runs, a 60 MB compose and axe: minutes on a busy machine. */
const BUDGET_MS = 480_000;

type CliAttachment = { id: number; state: string; contentType: string; size: number };

/** A real PNG of noise drawn by Chromium (it does not compress: about 4 bytes a pixel). */
async function noisePng(page: Page, width: number, height: number): Promise<Buffer> {
  const base64 = await page.evaluate(
    async ([w, h]) => {
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const context = canvas.getContext('2d')!;
      const image = context.createImageData(w, h);
      let seed = 12345;
      for (let i = 0; i < image.data.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        image.data[i] = i % 4 === 3 ? 255 : seed >>> 24;
      }
      context.putImageData(image, 0, 0);
      const blob = await new Promise<Blob>((done) => canvas.toBlob((b) => done(b!), 'image/png'));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return btoa(binary);
    },
    [width, height] as const,
  );
  return Buffer.from(base64, 'base64');
}

describe('transfers the user controls, in the app with a CLI contact', () => {
  it(
    'an image above the limit waits for Download, shows progress, then its preview; a cancelled upload is never sent',
    async () => {
      const root = tempDir();
      const bob = join(root, 'bob');
      const alice = await suite.open(join(root, 'alice'));
      const page = alice.page;

      await createProfile(page, 'Alice', 'alice walks the long ridge trail', suite.relay.url);
      const aliceInvite = await readInvite(page);
      await page.getByTestId('invite-continue').click();
      await cliInit(bob, 'Bob', suite.relay.url);
      await cli(bob, ['contact', 'add', aliceInvite]);
      await page.getByTestId('add-contact-open').click();
      await page.getByTestId('add-contact-invite').fill((await cli(bob, ['invite'])).trim());
      await page.getByTestId('add-contact-submit').click();
      await expect.poll(() => page.getByTestId('chat-view').isVisible(), POLL).toBe(true);

      // 1. Settings → Downloads: images up to 1 MB (a malformed value is refused in place).
      await page.getByTestId('settings-open').click();
      const limit = page.getByTestId('settings-download-images');
      await expect.poll(() => limit.inputValue(), POLL).toBe('10');
      await limit.fill('-4');
      await limit.blur();
      await expect.poll(() => page.getByTestId('settings-download-invalid').count(), POLL).toBe(1);
      await limit.fill('1');
      await limit.blur();
      await expect.poll(() => page.getByTestId('settings-download-invalid').count(), POLL).toBe(0);
      await expectAccessible(page, 'settings with the downloads section');
      await page.getByTestId('conversation-item').first().click();
      await expect.poll(() => page.getByTestId('chat-view').isVisible(), POLL).toBe(true);

      // 2. Bob sends an image over 1 MB: it waits with "Download <size>", and downloads on a click.
      const big = await noisePng(page, 1400, 1200);
      expect(big.length).toBeGreaterThan(1_000_000);
      writeFileSync(join(root, 'noise.png'), big);
      await cli(bob, ['send', 'Alice', '--file', join(root, 'noise.png'), '--caption', 'heavy']);
      const download = page.getByTestId('attachment-download');
      await expect.poll(() => download.count(), POLL).toBe(1);
      // Decimal MB with at most one decimal, as the app formats sizes.
      const size = new Intl.NumberFormat('en', {
        style: 'unit',
        unit: 'megabyte',
        unitDisplay: 'short',
        maximumFractionDigits: 1,
      }).format(big.length / 1e6);
      expect((await download.textContent())?.trim()).toBe(`Download ${size}`);
      expect(await page.getByTestId('attachment-image').count()).toBe(0);
      await screenshot(page, 'attachment-download');
      await expectAccessible(page, 'an image waiting for a click');
      // The core's progress events as the window receives them.
      await page.evaluate(() => {
        const seen: unknown[] = [];
        (globalThis as unknown as { progressSeen: unknown[] }).progressSeen = seen;
        // The preload's `window.sotto` (the harness's init script plays it here).
        const bridge = (
          globalThis as unknown as {
            sotto: { on(event: string, listener: (payload: unknown) => void): () => void };
          }
        ).sotto;
        bridge.on('attachments:progress', (event) => seen.push(event));
      });
      await download.click();
      const image = page.locator('.message.incoming [data-testid="attachment-image"]');
      await expect
        .poll(
          () => image.evaluate((img: HTMLImageElement) => img.naturalWidth).catch(() => 0),
          POLL,
        )
        .toBe(1400);
      const seen = await page.evaluate(
        () => (globalThis as unknown as { progressSeen: Record<string, unknown>[] }).progressSeen,
      );
      expect(seen.length).toBeGreaterThan(0);
      for (const event of seen) {
        expect(Object.keys(event).sort()).toEqual(['attachmentId', 'direction', 'done', 'total']);
        expect(event['direction']).toBe('download');
      }
      expect(await download.count()).toBe(0);

      // 3. Alice sends a 60 MB file with the Attach button and cancels it while it is sent.
      const movie = testFile(root, 'movie.bin', 60_000_000);
      alice.pickFiles.push([movie]);
      await page.getByTestId('chat-attach').click();
      // Attach fills the tray (a pick token, no path); Send sends it.
      await expect.poll(() => page.getByTestId('attachment-pending').count(), POLL).toBe(1);
      // The relay is paused (SIGSTOP) so the upload cannot finish before the click: on an idle
      // machine 60 MB crosses loopback faster than the test sees the Cancel button. The
      // transfer reports itself before its first request, so Cancel shows; the upload's
      // request then waits for the relay, which resumes once Cancel was clicked.
      process.kill(suite.relay.pid, 'SIGSTOP');
      const cancel = page.locator('.message.outgoing [data-testid="attachment-cancel"]');
      try {
        await page.getByTestId('chat-send').click();
        await expect.poll(() => cancel.count(), POLL).toBe(1);
        await expect
          .poll(
            () => page.locator('.message.outgoing [data-testid="attachment-progress"]').count(),
            POLL,
          )
          .toBe(1);
        await cancel.click();
      } finally {
        process.kill(suite.relay.pid, 'SIGCONT');
      }
      const state = page.locator('.message.outgoing [data-testid="attachment-state"]');
      await expect
        .poll(() => state.textContent(), POLL)
        .toBe('Cancelled. This message was not sent.');
      expect(await cancel.count()).toBe(0);
      // Its message shows failed, not queued.
      await expect
        .poll(
          () =>
            page
              .locator('.message.outgoing')
              .last()
              .locator('[data-testid="message-status"]')
              .getAttribute('data-status'),
          POLL,
        )
        .toBe('failed');
      await screenshot(page, 'attachment-cancelled');

      // Bob's CLI receives nothing of it.
      await cli(bob, ['sync']);
      const atBob = JSON.parse(
        await cli(bob, ['--json', 'attachments', 'Alice']),
      ) as CliAttachment[];
      expect(atBob.filter((a) => a.size === 60_000_000)).toEqual([]);
      expect(alice.problems).toEqual([]);
    },
    BUDGET_MS,
  );
});
