import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ATTACHMENT_BYTES } from '../../shared/protocol/attachment.ts';
import { cli } from '../support/cli.ts';
import { testBytes, testFile } from '../support/attachment-relays.ts';
import { type CliAttachment, cliAttachments } from './support/cli-files.ts';
import { aliceWithCliContacts } from './support/conversation.ts';
import { useSuite } from './support/harness.ts';

// Cancel while a send's file is being sealed, in the app (Chromium on a real
// core, a CLI member through a real relay process). Alice picks the largest
// file a message may carry and sends it; while the tray says "Encrypting…
// n %" she clicks Cancel: the send ends CANCELLED, no message appears, no
// file is left in her profile, and the tray still holds the file with the
// caption back in the box. Sent again from that same tray, Bob gets exactly
// one file, byte-identical: the cancelled one never left.

const suite = useSuite();
const WAIT = { timeout: 90_000, interval: 250 };
/** A 100 MiB seal, upload and CLI download twice over on a busy 2-core machine. */
const BUDGET_MS = 480_000;

/** Files under the app profile's attachments folder (stored copies and temp files). */
function profileFiles(profileDir: string): string[] {
  const dir = join(profileDir, 'attachments');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) =>
    statSync(join(dir, n)).isFile(),
  );
}

describe('Cancel while a file is sealed', () => {
  it(
    'stops the send: no message, no file left, the tray intact; the same tray then sends one byte-identical file',
    async () => {
      const { app, root, dirs } = await aliceWithCliContacts(suite, 'alice seals a long film', [
        'Bob',
      ]);
      const [bob] = dirs;
      const page = app.page;
      const film = testFile(root, 'film.bin', MAX_ATTACHMENT_BYTES);

      app.pickFiles.push([film]);
      await page.getByTestId('chat-attach').click();
      await expect.poll(() => page.getByTestId('attachment-pending').count(), WAIT).toBe(1);
      await page.getByTestId('chat-composer').fill('the whole film');
      await page.getByTestId('chat-send').click();

      // The core reports the seal (1 % after its first MiB): Cancel then.
      const status = page.getByTestId('attachment-sealing').getByRole('status');
      await status.filter({ hasText: /Encrypting… [1-9]\d?%/ }).waitFor({ timeout: 90_000 });
      await page.getByTestId('attachment-sealing-cancel').click();
      await page.getByTestId('attachment-sealing').waitFor({ state: 'detached', timeout: 90_000 });

      const answers = (method: string) =>
        app.ipcLog.filter((c) => c.method === method).map((c) => c.output);
      expect(answers('attachments:send-files')).toEqual([{ ok: false, code: 'CANCELLED' }]);
      expect(answers('attachments:cancel-send')).toEqual([
        { ok: true, value: { cancelled: true } },
      ]);
      expect(await page.getByTestId('message-row').count()).toBe(0);
      expect(await page.getByTestId('composer-error').count()).toBe(0);
      expect(await page.getByTestId('attachment-pending').innerText()).toContain('film.bin');
      expect(await page.getByTestId('chat-composer').inputValue()).toBe('the whole film');
      expect(profileFiles(app.profileDir)).toEqual([]);
      // The renderer held ids and counts only.
      expect(JSON.stringify(app.ipcLog)).not.toContain(root);

      // The same tray (the same pick token: a cancel gives it back) sends it.
      await page.getByTestId('chat-send').click();
      await expect.poll(() => page.getByTestId('attachment-pending').count(), WAIT).toBe(0);
      await expect.poll(() => page.getByTestId('message-row').count(), WAIT).toBe(1);
      let files: CliAttachment[] = [];
      await expect
        .poll(async () => (files = await cliAttachments(bob, 'Alice')).map((f) => f.state), {
          ...WAIT,
          interval: 1_000,
        })
        .toEqual(['done']);
      const out = join(root, 'film-at-bob.bin');
      await cli(bob, ['attachment', 'save', String(files[0]!.id), out]);
      expect(readFileSync(out).equals(testBytes(MAX_ATTACHMENT_BYTES, 'film.bin'))).toBe(true);
      expect(app.problems).toEqual([]);
    },
    BUDGET_MS,
  );
});
