// Electron main process: lifecycle, the window, OS integration. Thin: the core
// (profile, crypto, sync) runs in a worker thread behind CoreHost, and the
// renderer reaches it only through the IPC handlers in ipc.ts
// (docs/architecture.md#process-model, docs/ipc.md).
import { join } from 'node:path';
import {
  app,
  BrowserWindow,
  ipcMain,
  nativeImage,
  Notification,
  powerMonitor,
  protocol,
  session,
  Tray,
} from 'electron';
import type { EventPayload, MethodInput, MethodName } from '../../shared/ipc/contract.ts';
import { log } from '../core/log.ts';
import { installApplicationMenu } from './app-menu.ts';
import { serveAttachments } from './attachment-scheme/attachment-protocol.ts';
import { inBackground } from './background.ts';
import { CoreHost } from './core-host.ts';
import { chooseFile, chooseFilesToAttach } from './file-dialogs.ts';
import { PickRegistry } from './attachment-picks.ts';
import { SendOwners } from './send-owners.ts';
import { APP_ENTRY_URL, APP_ORIGIN, originOf } from './csp.ts';
import { IdleLock } from './idle-lock.ts';
import { registerIpc, sendEvent } from './ipc.ts';
import { safeStorageKeychain } from './keychain.ts';
import {
  type NotificationContent,
  notificationForGroupMessage,
  notificationForMessage,
  notificationForUnread,
} from './notifications.ts';
import { profileDirFromArgs, userDataForProfile } from './profile-dir.ts';
import { allowedOrigins, filterRendererRequests } from './request-filter.ts';
import {
  hardenSession,
  hardenWebContents,
  mainWindowOptions,
  registerAppScheme,
  serveRenderer,
} from './security.ts';
import { ShellState } from './shell-state.ts';

// Before `ready`: privileged scheme, app-wide sandbox, per-profile instance lock.
registerAppScheme();
app.enableSandbox();

const defaultProfile = join(app.getPath('userData'), 'profile');
const profileDir = profileDirFromArgs(process.argv, defaultProfile);
if (profileDir !== defaultProfile)
  app.setPath('userData', userDataForProfile(app.getPath('userData'), profileDir));

/** The dev server (electron-vite dev) replaces app:// only in an unpackaged build. */
const devServer = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const trustedOrigin = (devServer && originOf(devServer)) || APP_ORIGIN;

let mainWindow: BrowserWindow | undefined;
let tray: Tray | undefined;
let host: CoreHost | undefined;
/** The Attach button's picked files, by token (attachment-picks.ts). */
const picks = new PickRegistry();
/** Which window started which send with files (send-owners.ts). */
const sends = new SendOwners();

const windowIfOpen = (): BrowserWindow | undefined =>
  mainWindow && !mainWindow.isDestroyed() ? mainWindow : undefined;
const windowFocused = (): boolean => windowIfOpen()?.isFocused() ?? false;

/** Set once the core and IPC are up: before that there is no window to show. */
let started = false;

function showWindow(): void {
  if (!started) return;
  const window = windowIfOpen();
  if (!window) {
    inBackground('main.window_failed', openMainWindow);
    return;
  }
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

function notify(content: NotificationContent | undefined): void {
  if (!content || !Notification.isSupported()) return;
  const notification = new Notification({ title: content.title, body: content.body });
  notification.on('click', showWindow);
  notification.show();
}

const state = new ShellState({
  unread: (unread, previous) => {
    app.setBadgeCount(unread);
    tray?.setToolTip(unread > 0 ? `Sotto — ${unread} unread` : 'Sotto');
    notify(notificationForUnread(unread, previous, notifyContext()));
  },
  phase: (phase) => {
    if (phase === 'unlocked')
      inBackground('main.settings_failed', () => mainCall('settings:get', {}));
  },
});
const notifyContext = () => ({
  unlocked: state.unlocked,
  enabled: state.notifications,
  content: state.notificationContent,
  focused: windowFocused(),
});

/** A call main makes itself; its result feeds ShellState like the renderer's do. */
async function mainCall<M extends MethodName>(method: M, input: MethodInput<M>): Promise<void> {
  if (!host) return;
  const result = await host.call(method, input);
  state.observeCall(method, result);
}

const idleLock = new IdleLock({
  state,
  idleSeconds: () => powerMonitor.getSystemIdleTime(),
  lock: () =>
    inBackground('main.idle_lock_failed', () => mainCall('profile:lock', { reason: 'idle' })),
});

async function openMainWindow(): Promise<void> {
  const window = new BrowserWindow(
    mainWindowOptions(join(import.meta.dirname, '../preload/index.cjs'), {
      devTools: !app.isPackaged,
    }),
  );
  mainWindow = window;
  window.once('ready-to-show', () => window.show());
  // A closed or reloaded window's picks and sends die with it (the id is read while it still exists).
  const contentsId = window.webContents.id;
  const forget = () => {
    picks.forget(contentsId);
    sends.forget(contentsId);
  };
  window.webContents.on('did-navigate', forget);
  window.on('closed', () => {
    forget();
    if (mainWindow === window) mainWindow = undefined;
  });
  await window.loadURL(devServer ?? APP_ENTRY_URL);
}

function createTray(): void {
  const iconPath = app.isPackaged
    ? join(process.resourcesPath, 'icon.png')
    : join(app.getAppPath(), 'build', 'icon.png');
  const icon = nativeImage.createFromPath(iconPath);
  if (icon.isEmpty()) return; // no tray rather than a blank one
  tray = new Tray(icon.resize({ width: 22, height: 22 }));
  tray.setToolTip('Sotto');
  tray.on('click', showWindow);
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit(); // this profile is open in another instance, which now comes to the front
    return;
  }
  app.on('second-instance', showWindow);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

  await app.whenReady();
  installApplicationMenu(process.platform, app.isPackaged);
  hardenSession(session.defaultSession, trustedOrigin);
  filterRendererRequests(session.defaultSession, allowedOrigins(devServer));
  serveRenderer(protocol, join(import.meta.dirname, '../renderer'));
  serveAttachments(protocol, (id) => host?.mediaSource(id) ?? Promise.resolve(undefined));

  const keychain = safeStorageKeychain();
  host = await CoreHost.start({
    profileDir,
    appVersion: app.getVersion(),
    ...(keychain ? { keychain } : {}),
  });
  host.onEvent((name, payload) => {
    state.observeEvent(name, payload);
    if (name === 'app:locked') picks.clear(); // a locked window's tray is emptied: its tokens die too
    if (name === 'message:new')
      notify(notificationForMessage(payload as EventPayload<'message:new'>, notifyContext()));
    if (name === 'group:message')
      notify(
        notificationForGroupMessage(payload as EventPayload<'group:message'>, notifyContext()),
      );
    sendEvent(windowIfOpen(), name, payload);
  });
  registerIpc(ipcMain, {
    target: host,
    window: windowIfOpen,
    origin: trustedOrigin,
    observe: (method, result) => state.observeCall(method, result),
    chooseFile,
    picks: { registry: picks, choose: chooseFilesToAttach },
    sends,
  });
  await mainCall('app:state', {});
  await mainCall('sync:status', {});

  powerMonitor.on('lock-screen', () => idleLock.screenLocked());
  powerMonitor.on('suspend', () => idleLock.screenLocked());
  idleLock.start();
  createTray();
  started = true;
  await openMainWindow();
}

app.on('activate', showWindow); // macOS: dock icon clicked with no window
app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Close the core (it finishes running calls and closes the database) before exiting.
let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !host) return;
  event.preventDefault();
  quitting = true;
  idleLock.stop();
  const closing = host;
  inBackground('main.close_failed', async () => {
    try {
      await closing.close();
    } finally {
      app.quit();
    }
  });
});

start().catch((error: unknown) => {
  log.error('main.start_failed', error);
  app.exit(1);
});
