import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown> & {
  electronFuses: Record<string, boolean>;
  asarUnpack: string[];
  files: string[];
  linux: { target: string[] };
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
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    // The check bites: a misspelt fuse would be silently ignored otherwise.
    const misspelt = { ...config, electronFuses: { ...config.electronFuses, runAsNod: false } };
    await expect(validateConfiguration(misspelt, new DebugLogger(false))).rejects.toThrow(/configuration/i);
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
      expect.arrayContaining(['node_modules/@signalapp/libsignal-client/**', 'node_modules/@signalapp/sqlcipher/**', 'node_modules/@node-rs/**']),
    );
    expect(config.files).toContain('out/**');
    const exclusions = config.files.filter((pattern) => pattern.startsWith('!')).join(' ');
    for (const dir of ['tests', 'bench', 'electron', 'renderer', 'shared', 'relay', 'docs']) expect(exclusions).toContain(dir);
    expect(exclusions).toContain('ts');
    expect(config['npmRebuild']).toBe(false);
  });
});

describe('electron.vite.config.ts', () => {
  it('builds the core worker as a second main entry and keeps native modules external', async () => {
    const { default: viteConfig } = (await import('../../../electron.vite.config.ts')) as {
      default: { main: { build: { lib: { entry: Record<string, string> }; rollupOptions: { external: string[] } } } };
    };
    expect(Object.keys(viteConfig.main.build.lib.entry).sort()).toEqual(['core-worker', 'index']);
    expect(viteConfig.main.build.rollupOptions.external).toEqual(
      expect.arrayContaining(['@signalapp/libsignal-client', '@signalapp/sqlcipher', '@node-rs/argon2']),
    );
  });
});

describe('npm run dist', () => {
  it.skipIf(electronBinaryInstalled())('says plainly that the Electron binary is missing, without a stack trace', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'build/dist.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('the Electron binary is not installed');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
