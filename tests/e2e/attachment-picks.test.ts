import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { cli, cliInit } from '../support/cli.ts';
import { tempDir } from '../support/profiles.ts';
import { expectAccessible } from './support/axe.ts';
import {
  type AppWindow,
  createProfile,
  readInvite,
  screenshot,
  useSuite,
} from './support/harness.ts';
import { type CliAttachment, cliAttachments } from './support/cli-files.ts';
import { drawPng } from './support/media.ts';

// The Attach button (main's open dialog → pick tokens, docs/architecture.md
// #attachments-in-the-app) in the app against two CLI members through one
// real relay process. Alice picks an image and a document in a 1:1 chat, then
// an image in a group: the renderer measures the picked image from the bytes
// main hands it by token and draws the preview, exactly as for a dropped
// file; the CLI receivers get one pointer each with width, height and
// preview, and save byte-identical copies. Every IPC payload is checked: the
// renderer never saw a path. The "dialog" is the harness's pickFiles (main's
// own PickRegistry and pick-calls.ts behind it); only Electron's native
// dialog is not exercised.

const suite = useSuite();
const POLL = { timeout: 90_000, interval: 500 };
/** Three profiles, a dozen CLI runs and axe: minutes on a busy 2-core machine. */
const BUDGET_MS = 480_000;

/** Waits until `dir`'s CLI has downloaded `count` files of the conversation, and returns them. */
async function received(dir: string, conversation: string, count: number) {
  let files: CliAttachment[] = [];
  await expect
    .poll(async () => (files = await cliAttachments(dir, conversation)).map((a) => a.state), POLL)
    .toEqual(Array.from({ length: count }, () => 'done'));
  return files;
}

/** Saves a CLI profile's attachment and returns its bytes. */
async function saved(dir: string, id: number, out: string): Promise<Buffer> {
  await cli(dir, ['attachment', 'save', String(id), out]);
  return readFileSync(out);
}

async function addContact(page: Page, invite: string): Promise<void> {
  await page.getByTestId('add-contact-open').click();
  await page.getByTestId('add-contact-invite').fill(invite);
  await page.getByTestId('add-contact-submit').click();
  await expect.poll(() => page.getByTestId('chat-view').isVisible(), POLL).toBe(true);
}

/** Clicks Attach with `files` as the dialog's answer and waits for them in the tray. */
async function attach(app: AppWindow, files: string[]): Promise<void> {
  app.pickFiles.push(files);
  await app.page.getByTestId('chat-attach').click();
  await expect
    .poll(() => app.page.getByTestId('attachment-pending').count(), POLL)
    .toBe(files.length);
}

/** The inputs of the page's `attachments:send-files` calls, as they crossed. */
function sentFiles(app: AppWindow) {
  return app.ipcLog
    .filter((c) => c.method === 'attachments:send-files')
    .map(
      (c) =>
        (
          c.input as {
            files: { token?: string; name?: string; visual?: Record<string, unknown> }[];
          }
        ).files,
    );
}

describe('files picked with the Attach button', () => {
  it(
    'go out with dimensions and a preview in a 1:1 chat and in a group, and the renderer never sees a path',
    async () => {
      const root = tempDir();
      const bob = join(root, 'bob');
      const carol = join(root, 'carol');
      const photos = join(root, 'photos');
      mkdirSync(photos);
      const alice = await suite.open(join(root, 'alice'));
      const page = alice.page;

      await createProfile(page, 'Alice', 'alice walks the long ridge trail', suite.relay.url);
      const aliceInvite = await readInvite(page);
      await page.getByTestId('invite-continue').click();
      for (const [dir, name] of [
        [bob, 'Bob'],
        [carol, 'Carol'],
      ] as const) {
        await cliInit(dir, name, suite.relay.url);
        await cli(dir, ['contact', 'add', aliceInvite]);
        await addContact(page, (await cli(dir, ['invite'])).trim());
      }

      // 1. A 1:1 chat with Carol (open after adding her): an image and a document from the dialog.
      const summit = await drawPng(page, 120, 90, 30);
      const summitPath = join(photos, 'summit.png');
      writeFileSync(summitPath, summit);
      const planPath = join(photos, 'route plan.txt');
      writeFileSync(planPath, 'north ridge at dawn, lake by noon');
      await attach(alice, [summitPath, planPath]);
      await page.getByTestId('chat-composer').fill('from the summit');
      await page.getByTestId('chat-send').click();
      await expect.poll(() => page.getByTestId('attachment-pending').count(), POLL).toBe(0);
      const [direct] = sentFiles(alice);
      expect(
        direct?.map((f) => [Boolean(f.token), f.name, f.visual?.['width'], f.visual?.['height']]),
      ).toEqual([
        [true, undefined, 120, 90],
        [true, undefined, undefined, undefined],
      ]);
      expect(String(direct?.[0]?.visual?.['preview'])).toMatch(/^\/9j\//);
      const atCarol = await received(carol, 'Alice', 2);
      const image = atCarol.find((a) => a.contentType === 'image/png');
      const plan = atCarol.find((a) => a.fileName === 'route plan.txt');
      expect([image?.width, image?.height, image?.preview]).toEqual([
        120,
        90,
        direct?.[0]?.visual?.['preview'],
      ]);
      expect(plan?.preview).toBeNull();
      expect(
        (await saved(carol, image!.id, join(root, 'summit-at-carol.png'))).equals(summit),
      ).toBe(true);
      expect(
        (await saved(carol, plan!.id, join(root, 'plan-at-carol.txt'))).equals(
          readFileSync(planPath),
        ),
      ).toBe(true);

      // 2. A group with Bob and Carol.
      await page.getByTestId('new-group-open').click();
      await page.getByTestId('new-group-name').fill('Hikers');
      await page.getByTestId('group-contact-option').first().check();
      await page.locator('[data-testid="group-contact-option"]:not(:checked)').check();
      await page.getByTestId('new-group-create').click();
      await expect.poll(() => page.getByTestId('group-title').textContent(), POLL).toBe('Hikers');

      // The stored copy is held back until the preview was seen (Playwright runs the newest route first).
      let release: () => void = () => undefined;
      const held = new Promise<void>((done) => (release = done));
      await page.route(/^attachment:/, async (route) => {
        await held;
        await route.fallback();
      });
      const lake = await drawPng(page, 160, 100, 200);
      const lakePath = join(photos, 'lake.png');
      writeFileSync(lakePath, lake);
      await attach(alice, [lakePath]);
      await page.getByTestId('chat-composer').fill('the lake');
      await page.getByTestId('chat-composer').press('Enter');
      const mine = page.getByTestId('group-message').filter({ hasText: 'the lake' });
      const preview = mine.getByTestId('attachment-preview');
      await expect.poll(() => preview.count(), POLL).toBe(1);
      expect(await preview.getAttribute('src')).toMatch(/^data:image\/jpeg;base64,\/9j\//);
      expect(await mine.getByTestId('attachment-media-box').getAttribute('style')).toContain(
        'aspect-ratio: 160 / 100',
      );
      await screenshot(page, 'attachment-picked-group-preview');
      release(); // the held requests, and any later ones, go on to the scheme
      const shown = mine.getByTestId('attachment-image');
      await expect
        .poll(
          () => shown.evaluate((img: HTMLImageElement) => img.naturalWidth).catch(() => 0),
          POLL,
        )
        .toBe(160);
      await expectAccessible(page, 'group with a picked image');

      const groupPreview = sentFiles(alice)[1]?.[0]?.visual?.['preview'];
      expect(String(groupPreview)).toMatch(/^\/9j\//);
      for (const [dir, name] of [
        [bob, 'bob'],
        [carol, 'carol'],
      ] as const) {
        const [pointer, ...more] = await received(dir, 'Hikers', 1);
        expect(more).toEqual([]);
        expect([pointer?.width, pointer?.height, pointer?.preview]).toEqual([
          160,
          100,
          groupPreview,
        ]);
        expect(
          (await saved(dir, pointer!.id, join(root, `lake-at-${name}.png`))).equals(lake),
        ).toBe(true);
      }

      // 3. The renderer never saw a path: no IPC payload names the folder of the files or a profile.
      const picksAnswered = alice.ipcLog.filter((c) => c.method === 'attachments:pick');
      expect(picksAnswered).toHaveLength(2);
      expect(JSON.stringify(alice.ipcLog)).not.toContain(root);
      // A used token is refused when the page sends it again.
      const token = direct?.[0]?.token;
      const again = await page.evaluate(
        (t) =>
          (
            window as unknown as {
              sotto: Record<string, (i: unknown) => Promise<unknown>>;
            }
          ).sotto['attachments:send-files']!({
            conversationId: 1,
            caption: '',
            files: [{ token: t }],
          }),
        token,
      );
      expect(again).toEqual({ ok: false, code: 'ATTACHMENT_PICK_EXPIRED' });
      expect(alice.problems).toEqual([]);
    },
    BUDGET_MS,
  );
});
