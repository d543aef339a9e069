import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { expectAccessible } from './support/axe.ts';
import { type CliAttachment, cliAttachments } from './support/cli-files.ts';
import { addFromInvite, aliceWithCliContacts, firstRun } from './support/conversation.ts';
import { type AppWindow, screenshot, useSuite } from './support/harness.ts';
import { dropFiles, recordWebm } from './support/media.ts';

// Video previews (issue 13 §2) in real Chromium over one real relay process:
// Alice's app measures a video she picks (bytes by token from main) and one
// she drops, in her sandboxed renderer only — a frame drawn to the 16-pixel
// JPEG images get, plus width and height. Carol's CLI receives the pointer
// with them and saves the same bytes; Bob's app shows the poster with a play
// badge and Download before fetching anything, and plays it from the
// attachment: scheme after one click. A file Chromium cannot decode, dropped
// with it, goes without a visual and holds nothing up. The video is a real
// VP8 WebM recorded by Chromium's MediaRecorder from a canvas (no ffmpeg here).

const suite = useSuite();
const POLL = { timeout: 90_000, interval: 500 };
/** Two app profiles, a CLI member, a recorded video and axe: minutes on a busy machine. */
const BUDGET_MS = 480_000;

/** What the page's last `attachments:send-files` call sent of each file: name (dropped) and visual. */
function lastSent(app: AppWindow) {
  const call = app.ipcLog.filter((c) => c.method === 'attachments:send-files').at(-1);
  return (call?.input as { files: { name?: string; token?: string; visual?: unknown }[] }).files;
}

describe('video previews', () => {
  it(
    'a picked and a dropped video go out with size and poster; a CLI gets them, an app shows the poster before download',
    async () => {
      const {
        app: alice,
        root,
        dirs: [carol],
        invite: aliceInvite,
      } = await aliceWithCliContacts(suite, 'alice films the long ridge trail', ['Carol']);
      const page = alice.page;
      const clip = await recordWebm(page);
      const clipPath = join(root, 'dusk.webm');
      writeFileSync(clipPath, clip);

      // 1. Picked with the Attach button, to Carol's CLI.
      alice.pickFiles.push([clipPath]);
      await page.getByTestId('chat-attach').click();
      await expect.poll(() => page.getByTestId('attachment-pending').count(), POLL).toBe(1);
      await page.getByTestId('chat-composer').fill('the trail at dusk');
      await page.getByTestId('chat-send').click();
      await expect.poll(() => page.getByTestId('attachment-pending').count(), POLL).toBe(0);
      const [picked] = lastSent(alice);
      expect(picked?.token).toBeDefined();
      const visual = picked?.visual as { width: number; height: number; preview: string };
      expect([visual.width, visual.height]).toEqual([160, 120]);
      expect(visual.preview).toMatch(/^\/9j\//);
      let atCarol: CliAttachment[] = [];
      await expect
        .poll(
          async () => (atCarol = await cliAttachments(carol, 'Alice')).map((a) => a.state),
          POLL,
        )
        .toEqual(['done']);
      expect(atCarol[0]).toMatchObject({
        contentType: 'video/webm',
        width: 160,
        height: 120,
        preview: visual.preview,
      });
      const saved = join(root, 'dusk-at-carol.webm');
      await cli(carol, ['attachment', 'save', String(atCarol[0]!.id), saved]);
      expect(readFileSync(saved).equals(clip)).toBe(true);

      // 2. Dropped onto a chat with Bob, who uses the app. They add each other: a
      // file is fetched from the relay on the sender's contact record, which
      // someone who only wrote first does not have (UNKNOWN_CONTACT).
      const bob = await suite.open(join(root, 'bob'));
      const bobInvite = await firstRun(
        bob.page,
        'Bob',
        'bob likes long passphrases',
        suite.relay.url,
      );
      await addFromInvite(bob.page, aliceInvite);
      await addFromInvite(page, bobInvite);
      // Bob's conversation is open: a chat view with no file in it yet.
      await expect
        .poll(
          async () =>
            (await page.getByTestId('chat-view').isVisible()) &&
            (await page.getByTestId('attachment').count()),
          POLL,
        )
        .toBe(0);
      // With it, a "video" Chromium cannot decode: it goes too, without a visual.
      const junk = Buffer.from(Array.from({ length: 5_000 }, (_, i) => (i * 37) % 251));
      await dropFiles(page, [
        { name: 'junk.webm', type: 'video/webm', bytes: junk },
        { name: 'dusk.webm', type: 'video/webm', bytes: clip },
      ]);
      await expect.poll(() => page.getByTestId('attachment-pending').count(), POLL).toBe(2);
      await page.getByTestId('chat-composer').fill('for Bob');
      await page.getByTestId('chat-send').click();
      await expect.poll(() => page.getByTestId('attachment-pending').count(), POLL).toBe(0);
      const [undecodable, dropped] = lastSent(alice);
      expect([undecodable?.name, undecodable?.visual]).toEqual(['junk.webm', undefined]);
      expect(dropped?.name).toBe('dusk.webm');
      expect(dropped?.visual).toMatchObject({ width: 160, height: 120 });

      // 3. Bob's app: the poster, the play badge and Download; nothing asks the scheme yet.
      const fromAlice = bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice' });
      await expect.poll(() => fromAlice.count(), POLL).toBe(1);
      await fromAlice.click();
      const [bare, item] = [0, 1].map((n) => bob.page.getByTestId('attachment').nth(n)) as [
        Locator,
        Locator,
      ];
      await expect.poll(() => item.getAttribute('data-state'), POLL).toBe('pending');
      expect(await bare.getByTestId('attachment-preview').count()).toBe(0);
      const poster = item.getByTestId('attachment-preview');
      await expect.poll(() => poster.count(), POLL).toBe(1);
      expect(await poster.getAttribute('src')).toBe(
        `data:image/jpeg;base64,${(dropped?.visual as { preview: string }).preview}`,
      );
      expect(await poster.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(16);
      expect(await item.getByTestId('attachment-play').count()).toBe(1);
      expect(await item.getByTestId('attachment-media-box').getAttribute('style')).toContain(
        'aspect-ratio: 160 / 120',
      );
      expect(await item.getByTestId('attachment-video').count()).toBe(0);
      expect(bob.mediaRequests).toEqual([]);
      await screenshot(bob.page, 'video-poster');
      await expectAccessible(bob.page, 'a video not downloaded yet: its poster');

      // 4. One click: downloaded, it plays from the scheme and the badge goes.
      await item.getByTestId('attachment-download').click();
      const video = item.getByTestId('attachment-video');
      await expect
        .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState).catch(() => 0), POLL)
        .toBeGreaterThanOrEqual(2);
      expect(await video.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.videoHeight])).toEqual([
        160, 120,
      ]);
      await expect.poll(() => item.getByTestId('attachment-play').count(), POLL).toBe(0);
      expect(bob.mediaRequests.every((r) => r.status === 200 || r.status === 206)).toBe(true);
      expect(alice.problems).toEqual([]);
      expect(bob.problems).toEqual([]);
    },
    BUDGET_MS,
  );
});
