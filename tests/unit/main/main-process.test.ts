import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { channelOf, METHOD_NAMES } from '../../../shared/ipc/contract.ts';

// The whole main process (electron/main/index.ts) wired against fakes.
// Electron's binary cannot run on these machines, so 'electron' is the
// recording fake in fake-electron.ts; CoreHost is replaced by a scripted fake
// (its real worker plumbing has its own tests in core-host.test.ts).
vi.mock('electron', () => import('./fake-electron.ts'));

const core = vi.hoisted(() => {
  type Listener = (name: string, payload: unknown) => void;
  const state = {
    calls: [] as [string, unknown][],
    startOptions: undefined as unknown,
    listeners: new Set<Listener>(),
    closed: false,
    phase: 'unlocked',
    settings: {
      relay: null,
      autoLockMinutes: 5,
      theme: 'system',
      language: 'en',
      notifications: true,
      notificationContent: 'name-and-text',
      allowInsecureRelay: false,
    } as Record<string, unknown>,
  };
  const values: Record<string, (input: unknown) => unknown> = {
    'app:state': () => ({
      phase: state.phase,
      accountId: 'a',
      displayName: 'Ann',
      keychainSecure: false,
      unlockWith: 'passphrase',
    }),
    'profile:lock': () => {
      state.phase = 'locked';
      return {
        phase: 'locked',
        accountId: 'a',
        displayName: 'Ann',
        keychainSecure: false,
        unlockWith: 'passphrase',
      };
    },
    'settings:get': () => ({ ...state.settings }),
    'settings:set': (input: unknown) => Object.assign(state.settings, input),
    'sync:status': () => ({ connection: 'online', outbox: 0, backlog: null, unread: 0 }),
  };
  class FakeCoreHost {
    static start(options: unknown): Promise<FakeCoreHost> {
      state.startOptions = options;
      return Promise.resolve(new FakeCoreHost());
    }
    call(method: string, input: unknown): Promise<unknown> {
      state.calls.push([method, input]);
      const value = values[method];
      return Promise.resolve(
        value ? { ok: true, value: value(input) } : { ok: false, code: 'INTERNAL' },
      );
    }
    onEvent(listener: Listener): () => void {
      state.listeners.add(listener);
      return () => state.listeners.delete(listener);
    }
    mediaSource(id: number): Promise<unknown> {
      state.calls.push(['mediaSource', id]);
      return Promise.resolve(undefined); // nothing stored: every id is 404
    }
    close(): Promise<void> {
      state.closed = true;
      return Promise.resolve();
    }
  }
  const emit = (name: string, payload: unknown) => {
    for (const listener of state.listeners) listener(name, payload);
  };
  return { state, FakeCoreHost, emit };
});
vi.mock('../../../electron/main/core-host.ts', () => ({ CoreHost: core.FakeCoreHost }));

const fake = await import('./fake-electron.ts');
const PROFILE = '/tmp/sotto-main-test-profile';
const argv = process.argv;
let window: InstanceType<typeof fake.BrowserWindow>;

const message = (body: string) => ({
  id: 1,
  uuid: 'u',
  conversationId: 3,
  outgoing: false,
  senderAccount: 'b',
  senderName: 'Bob',
  sentAt: 1,
  receivedAt: 2,
  body,
  status: 'received',
});

beforeAll(async () => {
  process.argv = [...argv, '--profile', PROFILE];
  Object.assign(process, { resourcesPath: '/fake/resources' }); // set by Electron in a packaged app
  await import('../../../electron/main/index.ts');
  expect(fake.BrowserWindow.created).toHaveLength(0); // nothing before ready
  fake.app.becomeReady();
  await vi.waitFor(() => expect(fake.BrowserWindow.created).toHaveLength(1));
  window = fake.BrowserWindow.created[0]!;
  await vi.waitFor(() => expect(window.loadedUrl).toBeDefined());
});
afterAll(() => {
  process.argv = argv;
});

describe('main process startup', () => {
  it('sandboxes every renderer and registers app:// before ready, without bypassCSP', () => {
    const ready = fake.app.calls.indexOf('ready');
    expect(fake.app.calls.indexOf('enableSandbox')).toBeGreaterThanOrEqual(0);
    expect(fake.app.calls.indexOf('enableSandbox')).toBeLessThan(ready);
    expect(fake.protocol.privilegedAfterReady).toBe(false);
    expect(fake.protocol.privileged).toEqual([
      { scheme: 'app', privileges: expect.not.objectContaining({ bypassCSP: true }) as unknown },
      {
        scheme: 'attachment',
        privileges: { standard: true, secure: true, stream: true, supportFetchAPI: true },
      },
    ]);
  });

  it('serves attachment:// by asking the core for the stored copy by id (none here: 404, no-store)', async () => {
    const handler = fake.protocol.handlers.get('attachment')!;
    const response = await handler(new Request('attachment://media/42'));
    expect(response.status).toBe(404);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(core.state.calls).toContainEqual(['mediaSource', 42]);
    const other = await handler(new Request('attachment://media/../app'));
    expect(other.status).toBe(404);
  });

  it('takes a single-instance lock per profile (its own userData folder)', () => {
    expect(fake.app.calls.indexOf('setPath:userData')).toBeLessThan(
      fake.app.calls.indexOf('requestSingleInstanceLock'),
    );
    expect(fake.app.getPath('userData')).toMatch(/^\/fake\/userData\/profiles\/[0-9a-f]{16}$/);
    expect(core.state.startOptions).toMatchObject({ profileDir: PROFILE, appVersion: '9.8.7' }); // recorded in backup manifests
    // The app never lowers the Argon2id cost: the core's default (above the floor) applies.
    expect(core.state.startOptions).not.toHaveProperty('kdfCost');
  });

  it('hardens the session, serves the renderer on app://, and loads it from there', () => {
    expect(fake.session.defaultSession.permissionRequest).toBeDefined();
    expect(fake.session.defaultSession.permissionCheck).toBeDefined();
    expect(fake.protocol.handlers.has('app')).toBe(true);
    expect(window.loadedUrl).toBe('app://sotto/index.html');
    const prefs = window.options['webPreferences'] as Record<string, unknown>;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    });
    expect(String(prefs['preload'])).toMatch(/[/\\]preload[/\\]index\.cjs$/);
  });

  it('has no DevTools and no menu that opens them in a packaged build', () => {
    expect(fake.app.isPackaged).toBe(true);
    const prefs = window.options['webPreferences'] as Record<string, unknown>;
    expect(prefs['devTools']).toBe(false);
    // Linux here: no application menu at all (Electron's default has Toggle Developer Tools and Reload).
    expect(fake.Menu.application).toBeNull();
  });

  it("refuses every request of the renderer's session but app://sotto", () => {
    const filter = fake.session.defaultSession.webRequest.beforeRequest;
    expect(filter).toBeDefined();
    const cancelled = (url: string) => {
      let answer: boolean | undefined;
      filter!({ url, webContentsId: 1 }, ({ cancel }) => (answer = cancel));
      return answer;
    };
    expect(cancelled('app://sotto/index.html')).toBe(false);
    expect(cancelled('app://sotto/assets/app.js')).toBe(false);
    for (const url of [
      'https://relay.example/',
      'http://127.0.0.1:8787/',
      'ws://127.0.0.1:8787/',
      'wss://relay.example/v2',
      'file:///etc/passwd',
      'app://evil/index.html',
      'app://sotto.evil/x',
      'http://localhost:5173/', // the dev server exists only in an unpackaged build
      'devtools://devtools/bundled/inspector.html',
      'not a url',
    ]) {
      expect(cancelled(url), url).toBe(true);
    }
  });

  it('hardens every web contents created', () => {
    const contents = new fake.FakeWebContents();
    fake.app.emit('web-contents-created', {}, contents);
    expect(contents.fire('will-navigate', 'https://example.com')).toBe(true);
    expect(contents.windowOpenHandler?.({ url: 'http://example.com' })).toEqual({ action: 'deny' });
  });

  it('registers one IPC handler per method and learns the state from the core', () => {
    expect([...fake.ipcMain.handlers.keys()].sort()).toEqual(METHOD_NAMES.map(channelOf).sort());
    expect(core.state.calls.map(([method]) => method)).toEqual(
      expect.arrayContaining(['app:state', 'sync:status', 'settings:get']),
    );
  });
});

describe('events, notifications, badge, lock', () => {
  it('forwards push events to the window', () => {
    core.emit('conversations:changed', {});
    expect(window.webContents.sent).toContainEqual([channelOf('conversations:changed'), {}]);
  });

  it('notifies a new message with sender and text while unlocked and unfocused, not when focused', () => {
    window.focused = false;
    core.emit('message:new', message('hello there'));
    expect(fake.Notification.shown.at(-1)).toEqual({ title: 'Bob', body: 'hello there' });
    const count = fake.Notification.shown.length;
    window.focused = true;
    core.emit('message:new', message('seen already'));
    expect(fake.Notification.shown).toHaveLength(count);
    window.focused = false;
  });

  it('notifies per the notification content setting: name only hides the text, nothing hides the name', async () => {
    const handler = fake.ipcMain.handlers.get(channelOf('settings:set'))!;
    const trusted = { sender: window.webContents, senderFrame: window.webContents.mainFrame };
    window.focused = false;
    expect(await handler(trusted, { notificationContent: 'name' })).toMatchObject({ ok: true });
    core.emit('message:new', message('the code is 4711'));
    expect(fake.Notification.shown.at(-1)).toEqual({ title: 'Bob', body: 'New message' });
    expect(await handler(trusted, { notificationContent: 'nothing' })).toMatchObject({ ok: true });
    core.emit('message:new', message('the code is 4711'));
    expect(fake.Notification.shown.at(-1)).toEqual({ title: 'Sotto', body: 'New message' });
    expect(JSON.stringify(fake.Notification.shown.slice(-2))).not.toContain('4711');
    expect(await handler(trusted, { notificationContent: 'name-and-text' })).toMatchObject({
      ok: true,
    });
  });

  it('shows the unread count as the badge', () => {
    core.emit('sync:status', { connection: 'online', outbox: 0, backlog: null, unread: 4 });
    expect(fake.app.badge).toBe(4);
  });

  it('locks on screen lock, then notifies new messages without name or text', async () => {
    fake.powerMonitor.emit('lock-screen');
    await vi.waitFor(() =>
      expect(core.state.calls).toContainEqual(['profile:lock', { reason: 'idle' }]),
    );
    core.emit('app:locked', { reason: 'idle' });
    core.emit('sync:status', { connection: 'online', outbox: 0, backlog: null, unread: 6 });
    expect(fake.app.badge).toBe(6);
    expect(fake.Notification.shown.at(-1)).toEqual({ title: 'Sotto', body: 'New message' });
    expect(JSON.stringify(fake.Notification.shown.at(-1))).not.toMatch(/Bob|hello/);
  });

  it('closes the core before quitting', async () => {
    let prevented = false;
    fake.app.emit('before-quit', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    await vi.waitFor(() => expect(fake.app.calls.at(-1)).toBe('quit'));
    expect(core.state.closed).toBe(true);
  });
});
