import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { channelOf } from '../../../shared/ipc/contract.ts';
import type { CoreHost as CoreHostType } from '../../../electron/main/core-host.ts';
import { PickRegistry } from '../../../electron/main/attachment-picks.ts';
import { tempDir } from '../../support/profiles.ts';

// The Attach button through main's real IPC handlers (ipc.ts, pick-calls.ts):
// 'electron' is the recording fake (its binary cannot run here) and the core a
// fake service in a real worker that echoes the context main resolved. Pins
// that the renderer's payloads never carry a path, and that bad tokens and
// bad measurements are refused before the core sees the send.
vi.mock('electron', () => import('./fake-electron.ts'));

const fake = await import('./fake-electron.ts');
const { registerIpc } = await import('../../../electron/main/ipc.ts');
const { CoreHost } = await import('../../../electron/main/core-host.ts');

let window = new fake.BrowserWindow({});
let host: CoreHostType;
const registry = new PickRegistry();
const dialog = { answer: undefined as string[] | undefined, shown: 0 };
// A fresh folder per test (tempDir removes it after each).
let dir = '';
let image = '';
let doc = '';
/** A JPEG's first bytes, base64: the shape check looks at the signature only (main decodes nothing). */
const JPEG = Buffer.from('ffd8ffe000104a4649460001', 'hex').toString('base64');

beforeAll(async () => {
  host = await CoreHost.start({
    profileDir: 'unused',
    workerUrl: new URL('./fixtures/fake-core-worker.ts', import.meta.url),
  });
  registerIpc(fake.ipcMain as never, {
    target: host,
    window: () => (window.destroyed ? undefined : (window as never)),
    origin: 'app://sotto',
    picks: {
      registry,
      choose: () => {
        dialog.shown++;
        return Promise.resolve(dialog.answer);
      },
    },
  });
});
afterAll(() => host.close());
beforeEach(() => {
  dir = tempDir('sotto-pick-ipc-');
  image = join(dir, 'lake.png');
  doc = join(dir, 'notes.txt');
  writeFileSync(image, Buffer.from('89504e470d0a1a0a', 'hex'));
  writeFileSync(doc, 'the lake is cold');
  dialog.answer = undefined;
  dialog.shown = 0;
});

/** Invokes a handler as Electron would, from the current window's main frame. */
function invoke(method: string, input: unknown): Promise<unknown> {
  return fake.ipcMain.invokeFrom(window, channelOf(method as never), input);
}

type Picked = { ok: true; value: { token: string; name: string; measurable: boolean }[] };

async function pick(paths: string[]): Promise<Picked['value']> {
  dialog.answer = paths;
  const answer = (await invoke('attachments:pick', {})) as Picked;
  expect(answer.ok, JSON.stringify(answer)).toBe(true);
  return answer.value;
}

describe('the Attach button over IPC', () => {
  it('picks answer tokens without any path; the send reaches the core with the paths in order', async () => {
    const [img, txt] = await pick([image, doc]);
    expect(JSON.stringify([img, txt])).not.toContain(dir);
    expect([img?.name, img?.measurable, txt?.name, txt?.measurable]).toEqual([
      'lake.png',
      true,
      'notes.txt',
      false,
    ]);
    const bytes = (await invoke('attachments:picked-bytes', { token: img!.token })) as {
      ok: true;
      value: ArrayBuffer;
    };
    expect(Buffer.from(bytes.value).toString('hex')).toBe('89504e470d0a1a0a');
    const sent = await invoke('attachments:send-files', {
      conversationId: 1,
      caption: 'the lake',
      files: [
        { token: img!.token, visual: { width: 4, height: 3, preview: JPEG } },
        { name: 'dropped.txt', bytes: new ArrayBuffer(3) },
        { token: txt!.token },
      ],
    });
    expect(sent).toEqual({
      ok: true,
      value: { picked: [{ path: image }, { path: doc }], files: 3 },
    });
    // Used up: the same tokens again are refused before the core.
    expect(
      await invoke('attachments:send-files', {
        conversationId: 1,
        caption: '',
        files: [{ token: img!.token }],
      }),
    ).toEqual({ ok: false, code: 'ATTACHMENT_PICK_EXPIRED' });
  });

  it('a send the core refuses keeps its tokens: the same tray goes out once the user can send again', async () => {
    const [img] = await pick([image]);
    const send = (caption: string) =>
      invoke('attachments:send-files', {
        conversationId: 1,
        caption,
        files: [{ token: img!.token }],
      });
    expect(await send('blocked')).toEqual({ ok: false, code: 'CONTACT_BLOCKED' });
    expect(await send('')).toEqual({ ok: true, value: { picked: [{ path: image }], files: 1 } });
    expect(await send('')).toEqual({ ok: false, code: 'ATTACHMENT_PICK_EXPIRED' });
  });

  it('a send whose outcome is unknown uses up its tokens: a worker dying mid-call, an unexpected core failure', async () => {
    for (const caption of ['crash', 'unexpected']) {
      const [img, txt] = await pick([image, doc]);
      const send = (files: unknown[]) =>
        invoke('attachments:send-files', { conversationId: 1, caption, files });
      // The core may have queued the message: the same files must not go out a second time.
      expect(await send([{ token: img!.token }, { token: txt!.token }]), caption).toEqual({
        ok: false,
        code: 'INTERNAL',
      });
      for (const token of [img!.token, txt!.token])
        expect(await send([{ token }]), caption).toEqual({
          ok: false,
          code: 'ATTACHMENT_PICK_EXPIRED',
        });
      // The restarted core takes a fresh pick of the same file.
      const [again] = await pick([image]);
      expect(
        await invoke('attachments:send-files', {
          conversationId: 1,
          caption: '',
          files: [{ token: again!.token }],
        }),
      ).toEqual({ ok: true, value: { picked: [{ path: image }], files: 1 } });
    }
  });

  it('a closed dialog is CANCELLED; malformed input never opens it; too many files are refused', async () => {
    expect(await invoke('attachments:pick', {})).toEqual({ ok: false, code: 'CANCELLED' });
    expect(dialog.shown).toBe(1);
    expect(await invoke('attachments:pick', { path: image })).toEqual({
      ok: false,
      code: 'INVALID_INPUT',
    });
    expect(dialog.shown).toBe(1);
    dialog.answer = Array.from({ length: 11 }, () => doc);
    expect(await invoke('attachments:pick', {})).toEqual({ ok: false, code: 'INVALID_INPUT' });
  });

  it('forged and malformed tokens are refused, and a bad send uses up none of the good tokens', async () => {
    const [img] = await pick([image]);
    const send = (files: unknown[]) =>
      invoke('attachments:send-files', { conversationId: 1, caption: '', files });
    expect(await send([{ token: img!.token }, { token: 'B'.repeat(43) }])).toEqual({
      ok: false,
      code: 'ATTACHMENT_PICK_EXPIRED',
    });
    for (const token of ['short', `${'A'.repeat(42)}/`, image])
      expect(await send([{ token }])).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(await invoke('attachments:picked-bytes', { token: 'C'.repeat(43) })).toEqual({
      ok: false,
      code: 'ATTACHMENT_PICK_EXPIRED',
    });
    expect(await send([{ token: img!.token }])).toMatchObject({ ok: true });
  });

  it('measurements out of range, a preview that is not a JPEG or too large, and too many files are INVALID_INPUT and keep the token', async () => {
    const [img] = await pick([image]);
    const token = img!.token;
    const bad = [
      { width: 0, height: 3 },
      { width: 65_536, height: 3 },
      { width: 4.5, height: 3 },
      { width: 4 },
      { width: 4, height: 3, preview: 'iVBORw0KGgo=' }, // a PNG signature
      { width: 4, height: 3, preview: `${JPEG}${'A'.repeat(6_000)}` },
      { width: 4, height: 3, preview: '/9j/<script>' },
      { width: 4, height: 3, preview: JPEG, extra: 1 },
    ];
    for (const visual of bad)
      expect(
        await invoke('attachments:send-files', {
          conversationId: 1,
          caption: '',
          files: [{ token, visual }],
        }),
        JSON.stringify(visual),
      ).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(
      await invoke('attachments:send-files', {
        conversationId: 1,
        caption: '',
        files: Array.from({ length: 11 }, () => ({ token })),
      }),
    ).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(
      await invoke('attachments:send-files', {
        conversationId: 1,
        caption: '',
        files: [{ token }],
      }),
    ).toMatchObject({ ok: true, value: { picked: [{ path: image }] } });
  });

  it("a new window (another web contents) cannot use the previous window's tokens", async () => {
    const [img] = await pick([image]);
    window = new fake.BrowserWindow({});
    expect(await invoke('attachments:picked-bytes', { token: img!.token })).toEqual({
      ok: false,
      code: 'ATTACHMENT_PICK_EXPIRED',
    });
    expect(
      await invoke('attachments:send-files', {
        conversationId: 1,
        caption: '',
        files: [{ token: img!.token }],
      }),
    ).toEqual({ ok: false, code: 'ATTACHMENT_PICK_EXPIRED' });
  });
});
