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
  };
  const values: Record<string, () => unknown> = {
    'app:state': () => ({ phase: state.phase, accountId: 'a', displayName: 'Ann', keychainSecure: false, unlockWith: 'passphrase' }),
    'profile:lock': () => {
      state.phase = 'locked';
      return { phase: 'locked', accountId: 'a', displayName: 'Ann', keychainSecure: false, unlockWith: 'passphrase' };
    },
    'settings:get': () => ({ relay: null, autoLockMinutes: 5, theme: 'system', language: 'en', notifications: true }),
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
      return Promise.resolve(value ? { ok: true, value: value() } : { ok: false, code: 'INTERNAL' });
    }
    onEvent(listener: Listener): () => void {
      state.listeners.add(listener);
      return () => state.listeners.delete(listener);
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
    ]);
  });

  it('takes a single-instance lock per profile (its own userData folder)', () => {
    expect(fake.app.calls.indexOf('setPath:userData')).toBeLessThan(fake.app.calls.indexOf('requestSingleInstanceLock'));
    expect(fake.app.getPath('userData')).toMatch(/^\/fake\/userData\/profiles\/[0-9a-f]{16}$/);
    expect(core.state.startOptions).toMatchObject({ profileDir: PROFILE, appVersion: '9.8.7' }); // recorded in backup manifests
  });

  it('hardens the session, serves the renderer on app://, and loads it from there', () => {
    expect(fake.session.defaultSession.permissionRequest).toBeDefined();
    expect(fake.session.defaultSession.permissionCheck).toBeDefined();
    expect(fake.protocol.handlers.has('app')).toBe(true);
    expect(window.loadedUrl).toBe('app://sotto/index.html');
    const prefs = window.options['webPreferences'] as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(String(prefs['preload'])).toMatch(/[/\\]preload[/\\]index\.cjs$/);
  });

  it('hardens every web contents created', () => {
    const contents = new fake.FakeWebContents();
    fake.app.emit('web-contents-created', {}, contents);
    expect(contents.fire('will-navigate', 'https://example.com')).toBe(true);
    expect(contents.windowOpenHandler?.({ url: 'http://example.com' })).toEqual({ action: 'deny' });
  });

  it('registers one IPC handler per method and learns the state from the core', () => {
    expect([...fake.ipcMain.handlers.keys()].sort()).toEqual(METHOD_NAMES.map(channelOf).sort());
    expect(core.state.calls.map(([method]) => method)).toEqual(expect.arrayContaining(['app:state', 'sync:status', 'settings:get']));
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

  it('shows the unread count as the badge', () => {
    core.emit('sync:status', { connection: 'online', outbox: 0, backlog: null, unread: 4 });
    expect(fake.app.badge).toBe(4);
  });

  it('locks on screen lock, then notifies new messages without name or text', async () => {
    fake.powerMonitor.emit('lock-screen');
    await vi.waitFor(() => expect(core.state.calls).toContainEqual(['profile:lock', { reason: 'idle' }]));
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
