import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Electron's binary cannot run on these machines: 'electron' is the recording
// fake in fake-electron.ts, and these tests pin what main asks of it.
vi.mock('electron', () => import('./fake-electron.ts'));

const fake = await import('./fake-electron.ts');
const { CONTENT_SECURITY_POLICY } = await import('../../../electron/main/csp.ts');
const { rendererFileFor } = await import('../../../electron/main/renderer-files.ts');
const security = await import('../../../electron/main/security.ts');

const root = mkdtempSync(join(tmpdir(), 'sotto-renderer-'));
mkdirSync(join(root, 'assets'));
writeFileSync(join(root, 'index.html'), '<!doctype html><title>Sotto</title>');
writeFileSync(join(root, 'assets', 'app.js'), 'export {};');
// A secret beside the renderer folder: what a traversal would be after.
const outside = `${root}-secret.txt`;
writeFileSync(outside, 'secret');
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { force: true });
});

const serve = security.rendererRequestHandler(root);
const get = (url: string, method = 'GET') => serve(new Request(url, { method }));

describe('the app:// protocol', () => {
  it('is registered privileged (standard, secure) without bypassCSP', () => {
    security.registerAppScheme();
    const entry = fake.protocol.privileged.find((scheme) => scheme.scheme === 'app');
    expect(entry?.privileges).toMatchObject({ standard: true, secure: true });
    expect(entry?.privileges?.['bypassCSP']).toBeFalsy();
    expect(entry?.privileges?.['allowServiceWorkers']).toBeFalsy();
  });

  it('serves renderer files with the strict CSP header', async () => {
    for (const url of ['app://sotto/', 'app://sotto/index.html', 'app://sotto/assets/app.js']) {
      const response = await get(url);
      expect(response.status, url).toBe(200);
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await get('app://sotto/')).headers.get('content-type')).toMatch(/^text\/html/);
    expect(await (await get('app://sotto/index.html')).text()).toContain('<title>Sotto</title>');
    expect((await get('app://sotto/assets/app.js')).headers.get('content-type')).toMatch(
      /^text\/javascript/,
    );
  });

  it('has the policy the renderer is built for: nothing but itself, no network', () => {
    const directives = Object.fromEntries(
      CONTENT_SECURITY_POLICY.split('; ').map((d): [string, string] => [d.split(' ')[0]!, d]),
    );
    expect(directives).toEqual({
      'default-src': "default-src 'none'",
      'script-src': "script-src 'self'",
      'style-src': "style-src 'self'",
      'img-src': "img-src 'self' data: attachment:",
      'media-src': 'media-src attachment: blob:',
      'font-src': "font-src 'self'",
      'connect-src': "connect-src 'none'",
      'base-uri': "base-uri 'none'",
      'form-action': "form-action 'none'",
      'frame-ancestors': "frame-ancestors 'none'",
      'object-src': "object-src 'none'",
    });
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
  });

  it.each([
    'app://sotto/../../etc/passwd',
    'app://sotto/%2e%2e/%2e%2e/etc/passwd',
    'app://sotto/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    `app://sotto/%2e%2e/${outside.split('/').pop()!}`,
    'app://sotto/..%2f..%2f..%2fetc%2fpasswd',
    'app://sotto/assets/..%5c..%5c..%5cetc%5cpasswd',
    'app://sotto/..\\..\\etc\\passwd',
    'app://sotto//etc/passwd',
    `app://sotto/${outside}`,
    'app://sotto/C:/Windows/win.ini',
    'app://sotto/index.html%00.png',
    'app://sotto/%E0%A4%A',
    'app://sotto/missing.js',
    'app://evil/index.html',
  ])('refuses %s with 404 (and the CSP header)', async (url) => {
    const response = await get(url);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await response.text()).not.toContain('secret');
  });

  it('never resolves a path outside the root, whatever the URL', () => {
    for (const url of [
      'app://user:pw@sotto/index.html',
      'file:///etc/passwd',
      'https://sotto/index.html',
      'app:///etc/passwd',
      'not a url',
    ])
      expect(rendererFileFor(root, url), url).toBeUndefined();
    // URL parsing resolves dot segments (also encoded ones) against the root first: they cannot climb above it.
    expect(rendererFileFor(root, 'app://sotto/%2e%2e')).toBe(join(root, 'index.html'));
    expect(rendererFileFor(root, 'app://sotto/assets/%2e%2e/%2e%2e/%2e%2e/index.html')).toBe(
      join(root, 'index.html'),
    );
    expect(rendererFileFor(root, 'app://sotto/assets/../index.html')).toBe(
      join(root, 'index.html'),
    );
  });

  it('answers only GET and HEAD', async () => {
    expect((await get('app://sotto/index.html', 'POST')).status).toBe(405);
    const head = await get('app://sotto/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('serveRenderer registers the handler on the protocol it is given', () => {
    security.serveRenderer(fake.protocol as never, root);
    expect(fake.protocol.handlers.has('app')).toBe(true);
  });
});

describe('the main window', () => {
  it('is sandboxed and isolated, without Node, webviews or any preload but ours', () => {
    const options = security.mainWindowOptions('/app/out/preload/index.cjs', { devTools: false });
    expect(options.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(options.webPreferences).not.toHaveProperty('additionalArguments');
    expect(options.webPreferences).not.toHaveProperty('partition');
  });

  it('has DevTools only when asked for (an unpackaged development build)', () => {
    expect(security.mainWindowOptions('/p', { devTools: false }).webPreferences?.devTools).toBe(
      false,
    );
    expect(security.mainWindowOptions('/p', { devTools: true }).webPreferences?.devTools).toBe(
      true,
    );
  });
});

describe('web contents hardening', () => {
  beforeEach(() => {
    fake.shell.opened.length = 0;
  });

  it('denies navigation, redirects and webviews', () => {
    const contents = new fake.FakeWebContents();
    security.hardenWebContents(contents as never);
    expect(contents.fire('will-navigate', 'https://example.com/')).toBe(true);
    expect(contents.fire('will-navigate', 'app://sotto/index.html')).toBe(true);
    expect(contents.fire('will-redirect', 'https://example.com/')).toBe(true);
    expect(contents.fire('will-attach-webview', {}, {})).toBe(true);
  });

  it('denies every new window and opens only https links externally', async () => {
    const contents = new fake.FakeWebContents();
    security.hardenWebContents(contents as never);
    const open = (url: string) => contents.windowOpenHandler!({ url });
    expect(open('https://example.com/docs?q=1')).toEqual({ action: 'deny' });
    const refused = [
      'http://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'sotto://invite/abc',
      'app://sotto/index.html',
      'data:text/html,<script>1</script>',
      'https://user:pw@example.com/',
      'https:',
      'not a url',
    ];
    for (const url of refused) expect(open(url)).toEqual({ action: 'deny' });
    await Promise.resolve();
    expect(fake.shell.opened).toEqual(['https://example.com/docs?q=1']);
  });

  it('denies every permission request and check but a clipboard write from our origin', () => {
    const target = new fake.FakeSession();
    security.hardenSession(target as never, 'app://sotto');
    const request = (permission: string, requestingUrl: string) => {
      let granted: boolean | undefined;
      target.permissionRequest!({}, permission, (answer) => (granted = answer), { requestingUrl });
      return granted;
    };
    for (const permission of [
      'notifications',
      'media',
      'geolocation',
      'clipboard-read',
      'openExternal',
      'fullscreen',
      'midi',
    ]) {
      expect(request(permission, 'app://sotto/index.html'), permission).toBe(false);
      expect(target.permissionCheck!({}, permission, 'app://sotto'), permission).toBe(false);
    }
    expect(request('clipboard-sanitized-write', 'app://sotto/index.html')).toBe(true);
    expect(target.permissionCheck!({}, 'clipboard-sanitized-write', 'app://sotto')).toBe(true);
    expect(request('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
    expect(target.permissionCheck!({}, 'clipboard-sanitized-write', 'https://evil.example')).toBe(
      false,
    );
    expect(target.permissionCheck!({}, 'clipboard-sanitized-write', undefined)).toBe(false);
    expect(target.devicePermission!({})).toBe(false);
  });
});
