import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Packaging configuration, checked without packaging: electron-builder needs
// Electron's binary, which cannot be downloaded on these machines. js-yaml and
// app-builder-lib come with electron-builder (a devDependency); no YAML parser
// was added for this test.

const ROOT = join(import.meta.dirname, '../../..');
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<
  string,
  unknown
> & {
  electronFuses: Record<string, boolean>;
  asarUnpack: string[];
  files: string[];
  linux: { target: string[]; executableName: string };
  mac: { target: string[] };
  win: { target: string[] };
};

function electronBinaryInstalled(): boolean {
  const dir = dirname(require.resolve('electron/package.json'));
  return existsSync(join(dir, 'path.txt'));
}

describe('electron-builder.yml', () => {
  it('sets exactly the required Electron fuses', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableCookieEncryption: true,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it("matches electron-builder's own configuration schema", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration: (config: unknown, logger: unknown) => Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as {
      DebugLogger: new (enabled: boolean) => unknown;
    };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    // The check bites: a misspelt fuse would be silently ignored otherwise.
    const misspelt = { ...config, electronFuses: { ...config.electronFuses, runAsNod: false } };
    await expect(validateConfiguration(misspelt, new DebugLogger(false))).rejects.toThrow(
      /configuration/i,
    );
  });

  it('builds AppImage and deb, dmg, and nsis, with app id, product name and icons', () => {
    expect(config['appId']).toBe('org.sotto.desktop');
    expect(config['productName']).toBe('Sotto');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
    const png = readFileSync(join(ROOT, 'build/icon.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
    expect(readFileSync(join(ROOT, 'build/icon.svg'), 'utf8')).toContain('<svg');
  });

  it('packs the built app into an ASAR, native modules unpacked, no sources or tests', () => {
    expect(config['asar']).toBe(true);
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        'node_modules/@signalapp/libsignal-client/**',
        'node_modules/@signalapp/sqlcipher/**',
        'node_modules/@node-rs/**',
      ]),
    );
    expect(config.files).toContain('out/**');
    const exclusions = config.files.filter((pattern) => pattern.startsWith('!')).join(' ');
    for (const dir of ['tests', 'bench', 'electron', 'renderer', 'shared', 'relay', 'docs'])
      expect(exclusions).toContain(dir);
    expect(exclusions).toContain('ts');
    expect(config['npmRebuild']).toBe(false);
  });
});

describe('the fuses electron-builder writes into the packaged binary', () => {
  // A packaged Sotto cannot be built here (no Electron binary can be
  // downloaded), so this runs electron-builder's own fuse step — the code
  // `npm run dist` runs after packing (app-builder-lib's generateFuseConfig and
  // addElectronFuses, which call @electron/fuses) — on a stand-in for the
  // packaged Linux executable: the real fuse sentinel followed by a wire in
  // Electron's default states. Then the wire is read back with
  // @electron/fuses' getCurrentFuseWire, as one would read a real binary.
  it('flips every security fuse in a packaged Linux layout, read back from the binary', async () => {
    const fuses = require('@electron/fuses') as {
      getCurrentFuseWire(path: string): Promise<Record<string, number | string>>;
      FuseV1Options: Record<string, number>;
    };
    const { SENTINEL, FuseState } = require('@electron/fuses/dist/constants') as {
      SENTINEL: string;
      FuseState: Record<'ENABLE' | 'DISABLE', number>;
    };
    const { LinuxPackager } = require('app-builder-lib') as {
      LinuxPackager: {
        prototype: {
          generateFuseConfig(f: unknown): Promise<unknown>;
          addElectronFuses(c: unknown, f: unknown): Promise<unknown>;
        };
      };
    };
    const [on, off] = [FuseState.ENABLE, FuseState.DISABLE];
    // Electron 45's defaults: RunAsNode, NODE_OPTIONS, inspect and file:// privileges on; the rest off.
    const defaults = [on, off, on, on, off, off, off, on];
    const appOutDir = mkdtempSync(join(tmpdir(), 'sotto-packaged-'));
    try {
      const executable = join(appOutDir, 'sotto'); // linux.executableName
      const filler = Buffer.alloc(4096, 0x90);
      writeFileSync(
        executable,
        Buffer.concat([
          filler,
          Buffer.from(SENTINEL, 'latin1'),
          Buffer.from([1, defaults.length, ...defaults]),
          filler,
        ]),
      );
      const packager = Object.assign(
        Object.create(LinuxPackager.prototype) as typeof LinuxPackager.prototype,
        {
          executableName: config.linux.executableName,
        },
      );
      const fuseConfig = await packager.generateFuseConfig(config.electronFuses);
      await packager.addElectronFuses({ appOutDir, electronPlatformName: 'linux' }, fuseConfig);

      const wire = await fuses.getCurrentFuseWire(executable);
      const state = (name: string) => wire[fuses.FuseV1Options[name]!];
      expect({
        RunAsNode: state('RunAsNode'),
        EnableCookieEncryption: state('EnableCookieEncryption'),
        EnableNodeOptionsEnvironmentVariable: state('EnableNodeOptionsEnvironmentVariable'),
        EnableNodeCliInspectArguments: state('EnableNodeCliInspectArguments'),
        EnableEmbeddedAsarIntegrityValidation: state('EnableEmbeddedAsarIntegrityValidation'),
        OnlyLoadAppFromAsar: state('OnlyLoadAppFromAsar'),
        GrantFileProtocolExtraPrivileges: state('GrantFileProtocolExtraPrivileges'),
      }).toEqual({
        RunAsNode: off,
        EnableCookieEncryption: on,
        EnableNodeOptionsEnvironmentVariable: off,
        EnableNodeCliInspectArguments: off,
        EnableEmbeddedAsarIntegrityValidation: on,
        OnlyLoadAppFromAsar: on,
        GrantFileProtocolExtraPrivileges: off,
      });
    } finally {
      rmSync(appOutDir, { recursive: true, force: true });
    }
  });
});

describe('electron.vite.config.ts', () => {
  it('builds the core worker as a second main entry and keeps native modules external', async () => {
    const { default: viteConfig } = (await import('../../../electron.vite.config.ts')) as {
      default: {
        main: {
          build: { lib: { entry: Record<string, string> }; rollupOptions: { external: string[] } };
        };
      };
    };
    expect(Object.keys(viteConfig.main.build.lib.entry).sort()).toEqual(['core-worker', 'index']);
    expect(viteConfig.main.build.rollupOptions.external).toEqual(
      expect.arrayContaining([
        '@signalapp/libsignal-client',
        '@signalapp/sqlcipher',
        '@node-rs/argon2',
      ]),
    );
  });
});

describe.each([
  ['npm run dist', 'build/dist.mjs'],
  ['npm start', 'build/start.mjs'],
])('%s', (command, script) => {
  it.skipIf(electronBinaryInstalled())(
    'says plainly that the Electron binary is missing and what to run, without a stack trace',
    () => {
      const run = spawnSync(process.execPath, [join(ROOT, script)], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('the Electron binary is not installed');
      expect(run.stderr).toContain('node node_modules/electron/install.js');
      expect(run.stderr).toContain(`then run \`${command}\` again`);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    },
  );
});
