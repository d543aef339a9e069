import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { channelOf } from '../../../shared/ipc/contract.ts';
import type { CoreHost as CoreHostType } from '../../../electron/main/core-host.ts';
import { SEND_IDS_PER_WINDOW, SendOwners } from '../../../electron/main/send-owners.ts';

// Cancel of a send with files through main's real IPC handlers (ipc.ts,
// send-owners.ts): 'electron' is the recording fake and the core a fake
// service in a real worker that echoes what reached it. A window can cancel
// only a send it started itself; every other id is UNKNOWN_SEND and never
// reaches the core.
vi.mock('electron', () => import('./fake-electron.ts'));

const fake = await import('./fake-electron.ts');
const { registerIpc } = await import('../../../electron/main/ipc.ts');
const { CoreHost } = await import('../../../electron/main/core-host.ts');

let window = new fake.BrowserWindow({});
let host: CoreHostType;
const sends = new SendOwners();
const CHOSEN = '/home/user/holiday.mov';
let dialogs = 0;

beforeAll(async () => {
  host = await CoreHost.start({
    profileDir: 'unused',
    workerUrl: new URL('./fixtures/fake-core-worker.ts', import.meta.url),
  });
  registerIpc(fake.ipcMain as never, {
    target: host,
    window: () => (window.destroyed ? undefined : (window as never)),
    origin: 'app://sotto',
    sends,
    // The open dialog of `attachments:send`: counted, so a refusal before it is seen.
    chooseFile: () => {
      dialogs++;
      return Promise.resolve(CHOSEN);
    },
  });
});
afterAll(() => host.close());

/** Invokes a handler as Electron would, from the current window's main frame. */
function invoke(method: string, input: unknown): Promise<unknown> {
  return fake.ipcMain.invokeFrom(window, channelOf(method as never), input);
}

/** A send of one dropped file named `sendId` (the fake core echoes how many files came). */
const send = (sendId: string) =>
  invoke('attachments:send-files', {
    conversationId: 1,
    caption: '',
    files: [{ name: 'notes.txt', bytes: new ArrayBuffer(3) }],
    sendId,
  });

describe('cancelling a send over IPC', () => {
  it("a window's own send reaches the core; an id it never sent, or malformed, does not", async () => {
    const mine = randomUUID();
    expect(await send(mine)).toMatchObject({ ok: true });
    expect(await invoke('attachments:cancel-send', { sendId: mine })).toEqual({
      ok: true,
      value: { cancelled: true, reached: mine },
    });
    expect(await invoke('attachments:cancel-send', { sendId: randomUUID() })).toEqual({
      ok: false,
      code: 'UNKNOWN_SEND',
    });
    for (const input of [
      {},
      { sendId: 'not-a-uuid' },
      { sendId: mine.toUpperCase() },
      { sendId: mine, extra: 1 },
      null,
    ])
      expect(await invoke('attachments:cancel-send', input)).toEqual({
        ok: false,
        code: 'INVALID_INPUT',
      });
  });

  it("another window's send is UNKNOWN_SEND, and its id cannot be taken over by sending it again", async () => {
    const theirs = randomUUID();
    expect(await send(theirs)).toMatchObject({ ok: true });
    const first = window;
    window = new fake.BrowserWindow({}); // a reloaded or second window: other web contents
    try {
      expect(await invoke('attachments:cancel-send', { sendId: theirs })).toEqual({
        ok: false,
        code: 'UNKNOWN_SEND',
      });
      // Claiming the same id with a send of its own is refused before the core.
      expect(await send(theirs)).toEqual({ ok: false, code: 'INVALID_INPUT' });
      expect(await invoke('attachments:cancel-send', { sendId: theirs })).toEqual({
        ok: false,
        code: 'UNKNOWN_SEND',
      });
    } finally {
      window = first;
    }
    // The first window still owns it; once forgotten (closed or reloaded) it is unknown too.
    expect(await invoke('attachments:cancel-send', { sendId: theirs })).toMatchObject({ ok: true });
    sends.forget(first.webContents.id);
    expect(await invoke('attachments:cancel-send', { sendId: theirs })).toEqual({
      ok: false,
      code: 'UNKNOWN_SEND',
    });
  });
});

describe("the dialog's send (attachments:send) names a send too", () => {
  /** A send of the file chosen in main's dialog, named `sendId`. */
  const sendChosen = (sendId?: string) =>
    invoke('attachments:send', { conversationId: 1, caption: '', ...(sendId ? { sendId } : {}) });

  it('its id reaches the core with the chosen file, and only its window can cancel it', async () => {
    const mine = randomUUID();
    expect(await sendChosen(mine)).toEqual({ ok: true, value: { file: CHOSEN, sendId: mine } });
    expect(await invoke('attachments:cancel-send', { sendId: mine })).toEqual({
      ok: true,
      value: { cancelled: true, reached: mine },
    });
    // Without an id it still sends (it just cannot be cancelled while sealed).
    expect(await sendChosen()).toEqual({ ok: true, value: { file: CHOSEN, sendId: null } });
    const first = window;
    window = new fake.BrowserWindow({});
    try {
      expect(await invoke('attachments:cancel-send', { sendId: mine })).toEqual({
        ok: false,
        code: 'UNKNOWN_SEND',
      });
    } finally {
      window = first;
    }
  });

  it('an id any window used, or a malformed one, is INVALID_INPUT before the dialog opens', async () => {
    const used = randomUUID();
    expect(await send(used)).toMatchObject({ ok: true });
    const before = dialogs;
    expect(await sendChosen(used)).toEqual({ ok: false, code: 'INVALID_INPUT' });
    const first = window;
    window = new fake.BrowserWindow({});
    try {
      expect(await sendChosen(used)).toEqual({ ok: false, code: 'INVALID_INPUT' });
    } finally {
      window = first;
    }
    for (const sendId of ['not-a-uuid', randomUUID().toUpperCase(), 7])
      expect(await sendChosen(sendId as string)).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(dialogs).toBe(before);
  });
});

describe('SendOwners', () => {
  it('keeps a window to its newest ids, and one window never evicts another', () => {
    const owners = new SendOwners();
    const other = randomUUID();
    expect(owners.claim(2, other)).toBe(true);
    const ids = Array.from({ length: SEND_IDS_PER_WINDOW + 3 }, () => randomUUID());
    for (const id of ids) expect(owners.claim(1, id)).toBe(true);
    expect(ids.slice(0, 3).map((id) => owners.owns(1, id))).toEqual([false, false, false]);
    expect(ids.slice(3).every((id) => owners.owns(1, id))).toBe(true);
    expect(owners.owns(2, other)).toBe(true);
    expect(owners.owns(1, other)).toBe(false);
    expect(owners.claim(1, other)).toBe(false);
  });
});
