import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { aliceWithCliContacts } from './support/conversation.ts';
import { expectAccessible } from './support/axe.ts';
import { screenshot, useSuite } from './support/harness.ts';
import { drawPng, dropFiles, recordWebm } from './support/media.ts';

// Attachments in the app against a CLI contact, through one real relay
// process: Alice (the app) drops an image onto the conversation, Bob's CLI
// saves byte-identical copies; Bob's CLI sends an image and a video, the app
// shows the image decoded (naturalWidth > 0), saves it through "main's" save
// dialog, downloads the video on a click and seeks it with a range request. The attachment: scheme is
// served by electron/main/attachment-scheme/media-response.ts, the module
// main's protocol.handle calls, through Playwright's route (harness.ts): only
// the Electron glue around it is not exercised here.

const suite = useSuite();
const POLL = { timeout: 90_000, interval: 500 };
/** Two profiles, a dozen CLI runs, a recorded video and axe in two themes: minutes on a busy machine. */
const BUDGET_MS = 480_000;

type CliAttachment = { id: number; state: string; contentType: string; size: number };

async function cliAttachments(dir: string): Promise<CliAttachment[]> {
  await cli(dir, ['sync']);
  return JSON.parse(await cli(dir, ['--json', 'attachments', 'Alice'])) as CliAttachment[];
}

describe('attachments in the app with a CLI contact', () => {
  it(
    'sends a dropped image, shows and saves received images, and seeks a video by range',
    async () => {
      const {
        app: alice,
        root,
        dirs: [bob],
      } = await aliceWithCliContacts(suite, 'alice walks the long ridge trail', ['Bob']);
      const page = alice.page;

      // 1. Alice drops an image: it waits in the tray, goes with the caption, and Bob saves the same bytes.
      const photo = await drawPng(page, 96, 64, 10);
      await dropFiles(page, [{ name: 'ridge.png', type: 'image/png', bytes: photo }]);
      await expect.poll(() => page.getByTestId('attachment-pending').count(), POLL).toBe(1);
      await page.getByTestId('chat-composer').fill('the view from the ridge');
      await screenshot(page, 'attachment-tray');
      await expectAccessible(page, 'composer with a file waiting to be sent');
      await page.getByTestId('chat-send').click();
      await expect.poll(() => page.getByTestId('attachment-pending').count(), POLL).toBe(0);
      const sentImage = page.getByTestId('attachment-image').first();
      await expect
        .poll(() => sentImage.evaluate((img: HTMLImageElement) => img.naturalWidth), POLL)
        .toBe(96);
      let atBob: CliAttachment[] = [];
      await expect
        .poll(async () => (atBob = await cliAttachments(bob)).map((a) => a.state), POLL)
        .toEqual(['done']);
      const saved = join(root, 'ridge-at-bob.png');
      await cli(bob, ['attachment', 'save', String(atBob[0]!.id), saved]);
      expect(readFileSync(saved).equals(photo)).toBe(true);

      // 2. Bob sends an image and a video; the app decodes the image and saves it through the dialog.
      const lake = await drawPng(page, 120, 80, 200);
      writeFileSync(join(root, 'lake.png'), lake);
      await cli(bob, ['send', 'Alice', '--file', join(root, 'lake.png'), '--caption', 'the lake']);
      const clip = await recordWebm(page);
      writeFileSync(join(root, 'clip.webm'), clip);
      await cli(bob, ['send', 'Alice', '--file', join(root, 'clip.webm')]);
      const received = page.locator('.message.incoming [data-testid="attachment-image"]');
      await expect
        .poll(
          () => received.evaluate((img: HTMLImageElement) => img.naturalWidth).catch(() => 0),
          POLL,
        )
        .toBe(120);
      const out = join(root, 'lake-saved.png');
      alice.dialogFiles.push(out);
      await page.locator('.message.incoming [data-testid="attachment-save"]').first().click();
      await expect.poll(() => readFileSync(out, { flag: 'r' }).equals(lake), POLL).toBe(true);

      // 3. A video is never downloaded by itself (the policy takes images only): one click.
      const download = page.locator('.message.incoming [data-testid="attachment-download"]');
      await expect.poll(() => download.count(), POLL).toBe(1);
      await download.click();
      // The video seeks: currentTime moves and the scheme answered a range with 206.
      const video = page.getByTestId('attachment-video');
      await expect.poll(() => video.count(), POLL).toBe(1);
      await expect
        .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), POLL)
        .toBeGreaterThanOrEqual(1);
      const seeked = await video.evaluate(
        (v: HTMLVideoElement) =>
          new Promise<number>((done) => {
            v.addEventListener('seeked', () => done(v.currentTime), { once: true });
            v.currentTime = 0.5;
          }),
      );
      expect(seeked).toBeGreaterThan(0);
      const videoId = await video.evaluate((v) =>
        v.closest('[data-attachment-id]')!.getAttribute('data-attachment-id'),
      );
      const ranges = alice.mediaRequests.filter((r) => r.url.endsWith(`/${videoId}`));
      expect(ranges.some((r) => r.status === 206 && r.range !== null)).toBe(true);
      expect(alice.mediaRequests.every((r) => r.status === 200 || r.status === 206)).toBe(true);
      await screenshot(page, 'attachments');
      await expectAccessible(page, 'conversation with images, a video and file cards');
      expect(alice.problems).toEqual([]);
    },
    BUDGET_MS,
  );
});
