import { deflateSync, crc32 } from 'node:zlib';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { CoreHost } from '../../../electron/main/core-host.ts';
import {
  buildRenderer,
  launchChromium,
  openApp,
  serveRenderer,
} from '../../../tests/e2e/support/app-window.ts';
import { TEST_KDF } from '../../../tests/support/test-kdf.ts';
import { removeTempDirs, tempDir } from '../../support/temp.ts';

// The child of ../paint.ts: opens a conversation of 200 image messages in the
// app (the built renderer in headless Chromium on a real core, the
// attachment: scheme served by main's own module, as in the e2e) RUNS times
// and times the text rows' and the visible images' paint. A child process,
// typechecked with the e2e files (it hands DOM code to the page).
const MESSAGES = 200;
const RUNS = 5;
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

async function must<T>(result: Promise<{ ok: true; value: T } | { ok: false; code: string }>) {
  const answer = await result;
  if (!answer.ok) throw new Error(`bench setup failed: ${answer.code}`);
  return answer.value;
}

/** A profile with one contact and MESSAGES image messages to them (stored copies, as sent). */
async function seed(dir: string): Promise<void> {
  const relay = join(dir, 'relay');
  const bob = await CoreHost.start({
    profileDir: join(dir, 'bob'),
    kdfCost: TEST_KDF,
    sync: false,
  });
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
  const alice = await CoreHost.start({
    profileDir: join(dir, 'alice'),
    kdfCost: TEST_KDF,
    sync: false,
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
        caption: `photo ${i}`,
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
  await alice.close();
}

/** Opens the conversation; ms from the click to the text rows' paint, and to the visible images' paint. */
function openAndTime(page: Page): Promise<{ rows: number; images: number }> {
  return page.evaluate(
    () =>
      new Promise<{ rows: number; images: number }>((done) => {
        const start = performance.now();
        let rows = 0;
        const tick = () => {
          const now = performance.now();
          if (!rows && document.querySelector('[data-testid="message-row"]')) rows = now - start;
          const visible = [
            ...document.querySelectorAll<HTMLImageElement>('[data-testid="attachment-image"]'),
          ].filter((img) => {
            const box = img.getBoundingClientRect();
            return box.bottom > 0 && box.top < innerHeight && box.height > 0;
          });
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
  );
}

/** Prints the runs' timings as JSON: { rows: number[], images: number[] }. */
async function main(): Promise<void> {
  const dir = tempDir('sotto-bench-paint-');
  await seed(dir);
  buildRenderer();
  const served = await serveRenderer();
  const browser = await launchChromium();
  const app = await openApp(browser, served.url, join(dir, 'alice'));
  try {
    const page = app.page;
    await page
      .getByTestId('unlock-passphrase')
      .waitFor({ timeout: 120_000 })
      .catch(async (error: unknown) => {
        await page.screenshot({ path: join(dir, 'failed.png') });
        process.stderr.write(
          `screenshot: ${join(dir, 'failed.png')} ${JSON.stringify(app.problems)}\n`,
        );
        throw error;
      });
    await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
    await page.getByTestId('unlock-submit').click();
    await page.getByTestId('conversation-item').waitFor({ timeout: 120_000 });
    const runs: { rows: number; images: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await openAndTime(page));
      await page.getByTestId('settings-open').click(); // leave, so the next run opens it afresh
      await page.getByTestId('chat-view').waitFor({ state: 'detached', timeout: 60_000 });
    }
    process.stdout.write(
      JSON.stringify({ rows: runs.map((r) => r.rows), images: runs.map((r) => r.images) }),
    );
  } finally {
    await app.close();
    await browser.close();
    await served.close();
    removeTempDirs();
  }
}

await main();
