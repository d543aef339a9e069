import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { channelOf, METHOD_NAMES } from '../../../shared/ipc/contract.ts';
import type { CoreHost as CoreHostType } from '../../../electron/main/core-host.ts';

// Electron's binary cannot run on these machines: 'electron' is the recording
// fake in fake-electron.ts. The handlers forward to a real CoreHost (worker
// thread) serving a fake CoreService, so schema rejection is the real one.
vi.mock('electron', () => import('./fake-electron.ts'));

const fake = await import('./fake-electron.ts');
const { registerIpc, REFUSED } = await import('../../../electron/main/ipc.ts');
const { CoreHost } = await import('../../../electron/main/core-host.ts');

const window = new fake.BrowserWindow({});
let host: CoreHostType;
const observed: string[] = [];
const chooser = { answer: undefined as string | undefined, asked: [] as [string, unknown][] };

beforeAll(async () => {
  host = await CoreHost.start({
    profileDir: 'unused',
    workerUrl: new URL('./fixtures/fake-core-worker.ts', import.meta.url),
  });
  registerIpc(fake.ipcMain as never, {
    target: host,
    window: () => (window.destroyed ? undefined : (window as never)),
    origin: 'app://sotto',
    observe: (method) => observed.push(method),
    chooseFile: (method, input) => {
      chooser.asked.push([method, input]);
      return Promise.resolve(chooser.answer);
    },
  });
});
afterAll(() => host.close());
beforeEach(() => {
  window.destroyed = false;
  window.webContents.mainFrame.url = 'app://sotto/index.html';
  observed.length = 0;
  chooser.asked.length = 0;
  chooser.answer = undefined;
});

/** Invokes a registered handler as Electron would. */
function invoke(
  channel: string,
  input: unknown,
  from: { sender?: unknown; senderFrame?: unknown } = {},
): Promise<unknown> {
  const handler = fake.ipcMain.handlers.get(channel);
  if (!handler) throw new Error(`no handler for ${channel}`);
  const event = { sender: window.webContents, senderFrame: window.webContents.mainFrame, ...from };
  return Promise.resolve(handler(event, input));
}

describe('IPC handlers', () => {
  it('registers exactly one channel per contract method, nothing else', () => {
    expect([...fake.ipcMain.handlers.keys()].sort()).toEqual(METHOD_NAMES.map(channelOf).sort());
    expect(fake.ipcMain.handlers.has('sotto:nope')).toBe(false);
    expect(fake.ipcMain.handlers.has('sotto:message:new')).toBe(false); // events are not callable
  });

  it("forwards a call from our window's main frame and reports it to main", async () => {
    expect(await invoke(channelOf('app:state'), {})).toMatchObject({
      ok: true,
      value: { phase: 'no-profile' },
    });
    expect(observed).toEqual(['app:state']);
  });

  it('refuses a subframe, even one showing our origin', async () => {
    const subframe = { url: 'app://sotto/index.html', parent: window.webContents.mainFrame };
    expect(await invoke(channelOf('app:state'), {}, { senderFrame: subframe })).toEqual(REFUSED);
    expect(observed).toEqual([]);
  });

  it('refuses a main frame showing a foreign origin', async () => {
    for (const url of [
      'https://evil.example/',
      'file:///tmp/x.html',
      'app://evil/index.html',
      'http://sotto/',
      'about:blank',
      'data:text/html,x',
    ]) {
      window.webContents.mainFrame.url = url;
      expect(await invoke(channelOf('app:state'), {}), url).toEqual(REFUSED);
    }
  });

  it('refuses other web contents, a missing frame, and calls when the window is gone', async () => {
    const other = new fake.BrowserWindow({});
    expect(
      await invoke(
        channelOf('app:state'),
        {},
        { sender: other.webContents, senderFrame: other.webContents.mainFrame },
      ),
    ).toEqual(REFUSED);
    expect(await invoke(channelOf('app:state'), {}, { senderFrame: null })).toEqual(REFUSED);
    window.destroyed = true;
    expect(await invoke(channelOf('app:state'), {})).toEqual(REFUSED);
  });

  it('rejects malformed input with INVALID_INPUT', async () => {
    const malformed: [string, unknown][] = [
      ['messages:send', { conversationId: 1 }],
      ['messages:send', { conversationId: 1, body: 'x'.repeat(1024 * 1024 + 1) }], // over the transport's sanity bound (the core's byte rule, MESSAGE_TOO_LONG, is far below it)
      ['messages:page', { conversationId: 1, limit: 10_000 }],
      ['contacts:add', { invite: 42 }],
      ['settings:set', { autoLockMinutes: -1 }],
      ['settings:set', { theme: 'neon' }],
      ['profile:unlock', { passphrase: '', extra: 1 }],
      ['app:state', 'not an object'],
      ['app:state', { __proto__: { polluted: true }, x: 1 }],
    ];
    for (const [method, input] of malformed)
      expect(await invoke(channelOf(method as never), input), method).toEqual({
        ok: false,
        code: 'INVALID_INPUT',
      });
  });

  it('asks main for the file of a file method and hands the core the chosen path', async () => {
    chooser.answer = '/home/ann/backup.age';
    expect(await invoke(channelOf('backup:verify'), { passphrase: 'backup pass' })).toEqual({
      ok: true,
      value: { file: '/home/ann/backup.age', passphrase: 'backup pass' },
    });
    expect(chooser.asked).toEqual([['backup:verify', { passphrase: 'backup pass' }]]);
  });

  it('answers CANCELLED when the dialog is closed, and never opens one for malformed input', async () => {
    expect(await invoke(channelOf('backup:verify'), { passphrase: 'backup pass' })).toEqual({
      ok: false,
      code: 'CANCELLED',
    });
    expect(
      await invoke(channelOf('backup:verify'), { passphrase: 'p', file: '/etc/passwd' }),
    ).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(chooser.asked).toHaveLength(1);
  });

  it('ignores a path smuggled into the input of a non-file method', async () => {
    chooser.answer = '/tmp/x';
    expect(await invoke(channelOf('app:state'), { file: '/etc/passwd' })).toEqual({
      ok: false,
      code: 'INVALID_INPUT',
    });
    expect(chooser.asked).toEqual([]);
  });
});
