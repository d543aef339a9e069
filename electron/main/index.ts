// Electron main process: lifecycle and windows only. The core (profile, crypto,
// sync) runs off this thread; see docs/architecture.md#process-model.
import { join } from 'node:path';
import { app, BrowserWindow } from 'electron';

app.enableSandbox();

function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1100,
    height: 760,
    show: false,
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  return window;
}

async function main(): Promise<void> {
  await app.whenReady();
  const window = createMainWindow();
  const devServer = process.env['ELECTRON_RENDERER_URL'];
  await (devServer
    ? window.loadURL(devServer)
    : window.loadFile(join(import.meta.dirname, '../renderer/index.html')));
}

app.on('window-all-closed', () => app.quit());
main().catch(() => app.exit(1));
