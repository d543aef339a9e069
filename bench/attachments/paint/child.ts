import { deflateSync, crc32 } from 'node:zlib';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { CoreHost } from '../../../electron/main/core-host.ts';
import {
  type AppWindow,
  buildRenderer,
  launchChromium,
  openApp,
  serveRenderer,
} from '../../../tests/e2e/support/app-window.ts';
import { startRelayProcess } from '../../../tests/support/relay-process.ts';
import { TEST_KDF } from '../../../tests/support/test-kdf.ts';
import { percentile } from '../../support/stats.ts';
import type { Run } from './run.ts';
import { removeTempDirs, tempDir } from '../../support/temp.ts';

// The child of ../paint.ts: opens a conversation of 200 image messages in the
// app (the built renderer in headless Chromium on a real core, the
// attachment: scheme served by main's own module, as in the e2e) RUNS times
// and times the text rows' and the visible images' paint. A child process,
// typechecked with the e2e files (it hands DOM code to the page).
const MESSAGES = 200;
const RUNS = 5;
/** The seed's 200 uploads and sends on a busy machine. */
const SEED_BUDGET_MS = 600_000;
const PASSPHRASE = 'bench passphrase for first paint';

/** A real 320×240 PNG of colored bands (zlib-compressed RGB rows), different per seed. */
function png(seed: number): Buffer {
  const width = 320;
  const height = 240;
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const i = row + 1 + x * 3;
      rows[i] = (x + seed * 13) & 0xff;
      rows[i + 1] = (y * 2 + seed) & 0xff;
      rows[i + 2] = ((x ^ y) + seed * 7) & 0xff;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The text of message `i` (the newest is MESSAGES - 1). */
const caption = (i: number) => `photo ${i}`;

async function must<T>(result: Promise<{ ok: true; value: T } | { ok: false; code: string }>) {
  const answer = await result;
  if (!answer.ok) throw new Error(`bench setup failed: ${answer.code}`);
  return answer.value;
}

/**
 * A profile with one contact and MESSAGES image messages to them, all sent
 * through a real relay before the measured start: the conversation a user
 * opens after a restart, not an outbox still uploading (the first version of
 * this bench seeded with sync off, so its "cold" open timed 200 uploads to an
 * unreachable relay failing under it).
 */
async function seed(dir: string, relay: string): Promise<void> {
  const bob = await CoreHost.start({ profileDir: join(dir, 'bob'), kdfCost: TEST_KDF });
  await must(
    bob.call('profile:create', {
      displayName: 'Bob',
      passphrase: PASSPHRASE,
      useKeychain: false,
      relay,
    }),
  );
  const { link } = await must(bob.call('profile:invite', {}));
  await bob.close();
  const alice = await CoreHost.start({ profileDir: join(dir, 'alice'), kdfCost: TEST_KDF });
  const sent = new Set<number>();
  let unsubscribe = () => {};
  const drained = new Promise<void>((done, fail) => {
    unsubscribe = alice.onEvent((event, payload) => {
      if (event !== 'message:status') return;
      const { messageId, status } = payload as { messageId: number; status: string };
      if (status === 'failed') fail(new Error('bench setup: a message failed to send'));
      if (status === 'sent') sent.add(messageId);
      if (sent.size === MESSAGES) done();
    });
  });
  await must(
    alice.call('profile:create', {
      displayName: 'Alice',
      passphrase: PASSPHRASE,
      useKeychain: false,
      relay,
    }),
  );
  const contact = await must(alice.call('contacts:add', { invite: link }));
  for (let i = 0; i < MESSAGES; i++) {
    const bytes = png(i);
    await must(
      alice.call('attachments:send-bytes', {
        conversationId: contact.conversationId,
        caption: caption(i),
        files: [
          {
            name: `p${i}.png`,
            bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
            visual: { width: 320, height: 240 },
          },
        ],
      }),
    );
  }
  await withBudget(drained, SEED_BUDGET_MS, () => `${sent.size} of ${MESSAGES} sent`);
  unsubscribe();
  await alice.close();
}

/** `work`, or an error saying how far it got once `ms` pass without it. */
async function withBudget<T>(work: Promise<T>, ms: number, progress: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`bench setup timed out: ${progress()}`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens the conversation; ms from the click to the paint of the text rows at
 * its end (the newest message, whose body is `newest`, in view: the list may
 * first show the top of the loaded page for a frame or more before it
 * scrolls down), and then to the paint of the images in view.
 */
function openAndTime(page: Page, newest: string): Promise<{ rows: number; images: number }> {
  return page.evaluate(
    (newest) =>
      new Promise<{ rows: number; images: number }>((done) => {
        const start = performance.now();
        let rows = 0;
        const inView = (element: Element) => {
          const box = element.getBoundingClientRect();
          return box.bottom > 0 && box.top < innerHeight && box.height > 0;
        };
        const tick = () => {
          const now = performance.now();
          const bodies = document.querySelectorAll('[data-testid="message-body"]');
          if (!rows && [...bodies].some((b) => b.textContent === newest && inView(b)))
            rows = now - start;
          const visible = [
            ...document.querySelectorAll<HTMLImageElement>('[data-testid="attachment-image"]'),
          ].filter(inView);
          if (
            rows &&
            visible.length > 0 &&
            visible.every((img) => img.complete && img.naturalWidth > 0)
          ) {
            done({ rows, images: now - start });
            return;
          }
          requestAnimationFrame(tick);
        };
        document.querySelector<HTMLElement>('[data-testid="conversation-item"]')!.click();
        requestAnimationFrame(tick);
      }),
    newest,
  );
}

/** Prints the runs' timings as JSON, the first (cold: a fresh core and page) first: Run[]. */
async function main(): Promise<void> {
  const dir = tempDir('sotto-bench-paint-');
  const relay = await startRelayProcess(tempDir('sotto-bench-paint-relay-'));
  try {
    await seed(dir, relay.url);
    buildRenderer();
    const served = await serveRenderer();
    const browser = await launchChromium();
    // A fresh core on the seeded profile and a fresh browser context (no
    // compiled code, no cache): an app start. Chromium's own process start is
    // the harness's and happens before.
    const app = await openApp(browser, served.url, join(dir, 'alice'));
    try {
      process.stdout.write(JSON.stringify(await measure(app, dir)));
    } finally {
      await app.close();
      await browser.close();
      await served.close();
    }
  } finally {
    await relay.stop();
    removeTempDirs();
  }
}

/** The median of `values`, 0 for none (a reopen may need no request: Chromium reuses the page's decoded images). */
const median = (values: number[]) => (values.length > 0 ? percentile(values, 50) : 0);

/** Unlocks, then opens the conversation RUNS times, leaving it in between. */
async function measure(app: AppWindow, dir: string): Promise<Run[]> {
  const { page, problems, mediaRequests: media } = app;
  await page
    .getByTestId('unlock-passphrase')
    .waitFor({ timeout: 120_000 })
    .catch(async (error: unknown) => {
      await page.screenshot({ path: join(dir, 'failed.png') });
      process.stderr.write(`screenshot: ${join(dir, 'failed.png')} ${JSON.stringify(problems)}\n`);
      throw error;
    });
  await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
  await page.getByTestId('unlock-submit').click();
  await page.getByTestId('conversation-item').waitFor({ timeout: 120_000 });
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const from = media.length;
    const paint = await openAndTime(page, caption(MESSAGES - 1));
    const served = media.slice(from);
    runs.push({
      ...paint,
      requests: served.length,
      answerMs: median(served.map((r) => r.answerMs)),
      fulfillMs: median(served.map((r) => r.fulfillMs).filter((ms) => !Number.isNaN(ms))),
    });
    await page.getByTestId('settings-open').click(); // leave, so the next run opens it afresh
    await page.getByTestId('chat-view').waitFor({ state: 'detached', timeout: 60_000 });
  }
  return runs;
}

await main();
