import { describe, expect, it, vi } from 'vitest';

// The production shell's pure decisions: which requests the renderer may make
// and which menu a build gets. 'electron' is the recording fake (its binary
// cannot run here); main-process.test.ts checks the wiring in index.ts.
vi.mock('electron', () => import('./fake-electron.ts'));

const fake = await import('./fake-electron.ts');
const { allowedOrigins, filterRendererRequests, isAllowedRequest } =
  await import('../../../electron/main/request-filter.ts');
const { applicationMenuTemplate, installApplicationMenu, PRODUCTION_MENU_ROLES } =
  await import('../../../electron/main/app-menu.ts');

describe('the request filter', () => {
  const production = allowedOrigins(undefined);
  const development = allowedOrigins('http://localhost:5173/');

  it('lets a packaged renderer load only from app://sotto and attachment://media (and inline data: and blob: URLs, which are not network)', () => {
    expect([...production]).toEqual(['app://sotto', 'attachment://media']);
    for (const url of [
      'app://sotto/',
      'app://sotto/index.html',
      'app://sotto/assets/x.js?v=1',
      'data:image/png;base64,AAAA',
      'blob:app://sotto/1b2c',
      'attachment://media/12',
    ]) {
      expect(isAllowedRequest(url, production), url).toBe(true);
    }
  });

  it('refuses everything else: the network, files, other hosts on app://, look-alikes, credentials, garbage', () => {
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:8787/health',
      'wss://relay.example/v2',
      'ws://localhost:5173/',
      'ftp://example.com/x',
      'file:///home/user/.sotto/sotto.key',
      'app://evil/',
      'attachment://evil/1',
      'attachment://user@media/1',
      'app://sotto.evil.example/',
      'app://user:pass@sotto/index.html',
      'APP://SOTTO@evil/',
      'http://localhost:5173/',
      'devtools://devtools/bundled/inspector.html',
      'chrome://gpu',
      'javascript:alert(1)',
      '',
      'app:sotto',
      '//sotto/index.html',
    ]) {
      expect(isAllowedRequest(url, production), url).toBe(false);
    }
  });

  it('in a development build also allows the dev server, its hot-reload socket and DevTools, nothing more', () => {
    for (const url of [
      'http://localhost:5173/',
      'http://localhost:5173/src/main.ts',
      'ws://localhost:5173/',
      'devtools://devtools/bundled/inspector.html',
      'app://sotto/',
    ]) {
      expect(isAllowedRequest(url, development), url).toBe(true);
    }
    for (const url of [
      'http://localhost:5174/',
      'http://127.0.0.1:5173/',
      'https://localhost:5173/',
      'ws://localhost:8787/',
    ]) {
      expect(isAllowedRequest(url, development), url).toBe(false);
    }
  });

  it('cancels refused requests on the session it is installed on', () => {
    const target = new fake.FakeSession();
    filterRendererRequests(target as never, production);
    const answer = (url: string) => {
      let cancel: boolean | undefined;
      target.webRequest.beforeRequest!({ url }, (response) => (cancel = response.cancel));
      return cancel;
    };
    expect(answer('app://sotto/index.html')).toBe(false);
    expect(answer('https://tracker.example/pixel.gif')).toBe(true);
  });
});

describe('the application menu', () => {
  it('is absent in a packaged build on Linux and Windows', () => {
    expect(applicationMenuTemplate('linux', true)).toBeNull();
    expect(applicationMenuTemplate('win32', true)).toBeNull();
    installApplicationMenu('linux', true);
    expect(fake.Menu.application).toBeNull();
  });

  it('on macOS keeps only app, edit and window menus: no DevTools, no reload', () => {
    const template = applicationMenuTemplate('darwin', true);
    expect(template).toEqual(PRODUCTION_MENU_ROLES.map((role) => ({ role })));
    const roles = JSON.stringify(template);
    for (const forbidden of ['toggleDevTools', 'viewMenu', 'reload', 'forceReload', 'defaultMenu'])
      expect(roles).not.toContain(forbidden);
    installApplicationMenu('darwin', true);
    expect(fake.Menu.application).toEqual({ template });
  });

  it("leaves Electron's default menu (with DevTools) to an unpackaged development build", () => {
    fake.Menu.application = 'default';
    expect(applicationMenuTemplate('linux', false)).toBe('default');
    installApplicationMenu('linux', false);
    expect(fake.Menu.application).toBe('default');
  });
});
