// A recording stand-in for the `electron` module. Electron's binary cannot be
// downloaded or launched on these machines (../shared/design/environment.md),
// so main-process and preload code is tested against this fake through
// `vi.mock('electron', () => import('./fake-electron.ts'))`. It records what the
// code asked for; it does not imitate Chromium.
import { EventEmitter } from 'node:events';

/** A frame as IPC sees it (`event.senderFrame`). */
export interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
}

let nextContentsId = 1;

export class FakeWebContents extends EventEmitter {
  /** Unique per web contents, as Electron's (main binds pick tokens to it). */
  readonly id = nextContentsId++;
  readonly mainFrame: FakeFrame = { url: 'app://sotto/index.html', parent: null };
  readonly sent: [string, unknown][] = [];
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;

  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }

  send(channel: string, payload: unknown): void {
    this.sent.push([channel, payload]);
  }

  /** Emits an Electron-style event; returns whether a listener called preventDefault. */
  fire(name: string, ...args: unknown[]): boolean {
    let prevented = false;
    this.emit(name, { preventDefault: () => (prevented = true) }, ...args);
    return prevented;
  }
}

export class BrowserWindow extends EventEmitter {
  static readonly created: BrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  loadedUrl: string | undefined;
  destroyed = false;
  focused = false;

  constructor(readonly options: Record<string, unknown>) {
    super();
    BrowserWindow.created.push(this);
  }

  loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
    return Promise.resolve();
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isFocused(): boolean {
    return this.focused;
  }
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  show(): void {}
  focus(): void {
    this.focused = true;
  }
}

class FakeApp extends EventEmitter {
  readonly calls: string[] = [];
  readonly paths = new Map<string, string>([['userData', '/fake/userData']]);
  isPackaged = true;
  singleInstance = true;
  badge: number | undefined;
  #ready: () => void = () => undefined;
  readonly #whenReady = new Promise<void>((resolve) => (this.#ready = resolve));

  enableSandbox(): void {
    this.calls.push('enableSandbox');
  }
  getPath(name: string): string {
    return this.paths.get(name) ?? `/fake/${name}`;
  }
  setPath(name: string, value: string): void {
    this.calls.push(`setPath:${name}`);
    this.paths.set(name, value);
  }
  getAppPath(): string {
    return '/fake/app';
  }
  getVersion(): string {
    return '9.8.7';
  }
  requestSingleInstanceLock(): boolean {
    this.calls.push('requestSingleInstanceLock');
    return this.singleInstance;
  }
  whenReady(): Promise<void> {
    return this.#whenReady;
  }
  /** Test control: the app becomes ready. */
  becomeReady(): void {
    this.calls.push('ready');
    this.#ready();
  }
  setBadgeCount(count: number): boolean {
    this.badge = count;
    return true;
  }
  quit(): void {
    this.calls.push('quit');
  }
  exit(code: number): void {
    this.calls.push(`exit:${code}`);
  }
}

export const app = new FakeApp();

export const ipcMain = {
  handlers: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
  handle(channel: string, handler: (event: unknown, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, handler);
  },
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  },
  /** Invokes the handler of `channel` as Electron would, from the main frame of `window`. */
  invokeFrom(window: BrowserWindow, channel: string, input: unknown): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    const event = { sender: window.webContents, senderFrame: window.webContents.mainFrame };
    return Promise.resolve(handler(event, input));
  },
};

export const protocol = {
  privileged: [] as { scheme: string; privileges?: Record<string, boolean> }[],
  privilegedAfterReady: false,
  handlers: new Map<string, (request: Request) => Promise<Response>>(),
  registerSchemesAsPrivileged(
    schemes: { scheme: string; privileges?: Record<string, boolean> }[],
  ): void {
    if (app.calls.includes('ready')) this.privilegedAfterReady = true;
    this.privileged.push(...schemes);
  },
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void {
    this.handlers.set(scheme, handler);
  },
};

/** The callback `webRequest.onBeforeRequest` gets: cancel or let through. */
export type BeforeRequestListener = (
  details: { url: string; webContentsId?: number },
  callback: (response: { cancel: boolean }) => void,
) => void;

export class FakeSession {
  readonly webRequest = {
    beforeRequest: undefined as BeforeRequestListener | undefined,
    onBeforeRequest(listener: BeforeRequestListener): void {
      this.beforeRequest = listener;
    },
  };
  permissionRequest:
    | ((
        contents: unknown,
        permission: string,
        callback: (granted: boolean) => void,
        details?: unknown,
      ) => void)
    | undefined;
  permissionCheck:
    | ((contents: unknown, permission: string, origin?: string, details?: unknown) => boolean)
    | undefined;
  devicePermission: ((details: unknown) => boolean) | undefined;
  setPermissionRequestHandler(handler: FakeSession['permissionRequest']): void {
    this.permissionRequest = handler;
  }
  setPermissionCheckHandler(handler: FakeSession['permissionCheck']): void {
    this.permissionCheck = handler;
  }
  setDevicePermissionHandler(handler: FakeSession['devicePermission']): void {
    this.devicePermission = handler;
  }
}

export const session = { defaultSession: new FakeSession() };

export const shell = {
  opened: [] as string[],
  openExternal(url: string): Promise<void> {
    this.opened.push(url);
    return Promise.resolve();
  },
};

export class Notification extends EventEmitter {
  static readonly shown: { title: string; body: string }[] = [];
  static isSupported(): boolean {
    return true;
  }
  constructor(readonly options: { title: string; body: string }) {
    super();
  }
  show(): void {
    Notification.shown.push(this.options);
  }
}

export const powerMonitor = Object.assign(new EventEmitter(), {
  idleSeconds: 0,
  getSystemIdleTime(): number {
    return this.idleSeconds;
  },
});

export const dialog = {
  /** Scripted answers: a path, or undefined for a closed dialog. */
  nextSave: undefined as string | undefined,
  nextOpen: undefined as string | undefined,
  shown: [] as [string, unknown, Record<string, unknown>][],
  showSaveDialog(
    window: unknown,
    options: Record<string, unknown>,
  ): Promise<{ canceled: boolean; filePath?: string }> {
    this.shown.push(['save', window, options]);
    return Promise.resolve(
      this.nextSave === undefined
        ? { canceled: true, filePath: '' }
        : { canceled: false, filePath: this.nextSave },
    );
  },
  showOpenDialog(
    window: unknown,
    options: Record<string, unknown>,
  ): Promise<{ canceled: boolean; filePaths: string[] }> {
    this.shown.push(['open', window, options]);
    return Promise.resolve(
      this.nextOpen === undefined
        ? { canceled: true, filePaths: [] }
        : { canceled: false, filePaths: [this.nextOpen] },
    );
  },
};

/** Records the application menu main sets (null: no menu at all). */
export const Menu = {
  application: 'default' as unknown,
  setApplicationMenu(menu: unknown): void {
    this.application = menu;
  },
  buildFromTemplate(template: unknown[]): { template: unknown[] } {
    return { template };
  },
};

export const nativeImage = {
  createFromPath: () => ({ isEmpty: () => true, resize: () => ({}) }),
};

export class Tray extends EventEmitter {
  setToolTip(): void {}
}

export const safeStorage = {
  isEncryptionAvailable: () => false,
  getSelectedStorageBackend: () => 'basic_text',
  encryptString: (text: string) => Buffer.from(text),
  decryptString: (blob: Buffer) => blob.toString(),
};

// --- preload side ---------------------------------------------------------

export const contextBridge = {
  exposed: new Map<string, unknown>(),
  exposeInMainWorld(key: string, api: unknown): void {
    this.exposed.set(key, api);
  },
};

export const ipcRenderer = Object.assign(new EventEmitter(), {
  invoked: [] as [string, unknown][],
  invoke(channel: string, input: unknown): Promise<unknown> {
    this.invoked.push([channel, input]);
    return Promise.resolve({ ok: true, value: channel });
  },
});
