import { beforeAll, describe, expect, it, vi } from 'vitest';
import { channelOf } from '../../../shared/ipc/contract.ts';

// Issue 11: after "Restore from backup" at first run, main went on believing
// there was no profile, so idle time, an OS screen lock or a suspend never
// locked the restored profile. The whole main process (index.ts) against the
// fake 'electron' (its binary cannot run here) and a scripted CoreHost that
// starts with no profile.
vi.mock('electron', () => import('./fake-electron.ts'));

const core = vi.hoisted(() => {
  const state = { calls: [] as [string, unknown][], phase: 'no-profile' as string };
  const appState = () => ({
    phase: state.phase,
    accountId: null,
    displayName: null,
    keychainSecure: false,
    unlockWith: null,
  });
  const values: Record<string, (input: unknown) => unknown> = {
    'app:state': appState,
    'sync:status': () => ({ connection: 'not-configured', outbox: 0, backlog: null, unread: 0 }),
    'settings:get': () => ({
      relay: null,
      autoLockMinutes: 1,
      theme: 'system',
      language: 'en',
      notifications: true,
      notificationContent: 'name',
      allowInsecureRelay: false,
      autoDownloadImagesMb: 10,
      autoDownloadOnMetered: false,
    }),
    'backup:restore': () => {
      state.phase = 'unlocked';
      return { state: appState(), added: 2, summary: {} };
    },
    'profile:lock': () => {
      state.phase = 'locked';
      return appState();
    },
  };
  class FakeCoreHost {
    static start(): Promise<FakeCoreHost> {
      return Promise.resolve(new FakeCoreHost());
    }
    call(method: string, input: unknown): Promise<unknown> {
      state.calls.push([method, input]);
      const value = values[method];
      return Promise.resolve(
        value ? { ok: true, value: value(input) } : { ok: false, code: 'INTERNAL' },
      );
    }
    onEvent(): () => void {
      return () => undefined;
    }
    close(): Promise<void> {
      return Promise.resolve();
    }
  }
  return { state, FakeCoreHost };
});
vi.mock('../../../electron/main/core-host.ts', () => ({ CoreHost: core.FakeCoreHost }));

const fake = await import('./fake-electron.ts');
let window: InstanceType<typeof fake.BrowserWindow>;

beforeAll(async () => {
  Object.assign(process, { resourcesPath: '/fake/resources' }); // set by Electron in a packaged app
  await import('../../../electron/main/index.ts');
  fake.app.becomeReady();
  await vi.waitFor(() => expect(fake.BrowserWindow.created).toHaveLength(1));
  window = fake.BrowserWindow.created[0]!;
  await vi.waitFor(() => expect(window.loadedUrl).toBeDefined());
});

describe('a first-run restore', () => {
  it('is locked by an OS screen lock and by idle time, like a profile that was unlocked', async () => {
    const trusted = { sender: window.webContents, senderFrame: window.webContents.mainFrame };
    // Nothing to lock before the restore.
    fake.powerMonitor.emit('lock-screen');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(core.state.calls.map(([method]) => method)).not.toContain('profile:lock');

    fake.dialog.nextOpen = '/backups/ann.age';
    const restore = fake.ipcMain.handlers.get(channelOf('backup:restore'))!;
    const result = await restore(trusted, {
      passphrase: 'backup passphrase',
      protect: { passphrase: 'quiet harbour lanterns orbit', useKeychain: false },
    });
    expect(result).toMatchObject({ ok: true, value: { state: { phase: 'unlocked' } } });
    // Main reads the restored profile's settings (auto-lock after 1 minute) as after an unlock.
    await vi.waitFor(() =>
      expect(core.state.calls.map(([method]) => method)).toContain('settings:get'),
    );

    fake.powerMonitor.emit('suspend');
    await vi.waitFor(() =>
      expect(core.state.calls).toContainEqual(['profile:lock', { reason: 'idle' }]),
    );
  });
});
