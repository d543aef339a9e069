import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';

// `sotto init --relay … [--insecure]` as a real process: the address rules
// apply before anything is created, and consent to an insecure relay is
// explicit and remembered.

const KDF = ['--kdf-memory', '64', '--kdf-iterations', '3']; // the CLI's floor (docs/key-file.md)

describe('sotto init --relay', () => {
  it('refuses ws:// to another host without --insecure, before creating anything (exit 2)', async () => {
    const dir = join(tempDir(), 'alice');
    // 192.0.2.0/24 is TEST-NET-1: nothing answers there, and nothing must be tried.
    const result = await runCli(dir, [
      'init',
      '--relay',
      'ws://192.0.2.10:8787',
      '--name',
      'Alice',
      ...KDF,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('INSECURE_RELAY');
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a network path as a folder relay (exit 2), creating nothing', async () => {
    const dir = join(tempDir(), 'alice');
    const result = await runCli(dir, [
      'init',
      '--relay',
      '//attacker.example/share',
      '--name',
      'Alice',
      ...KDF,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('RELAY_ADDRESS_REFUSED');
    expect(existsSync(dir)).toBe(false);
  });

  it('accepts ws:// to another host with --insecure and remembers the consent', async () => {
    const dir = join(tempDir(), 'alice');
    // Nothing answers on TEST-NET-1: init waits out the connect timeout and keeps the keys for later.
    const init = await runCli(dir, [
      '--json',
      'init',
      '--relay',
      'ws://192.0.2.10:8787',
      '--insecure',
      '--name',
      'Alice',
      ...KDF,
    ]);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ published: false });
    const status = await runCli(dir, ['--json', 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      relay: 'ws://192.0.2.10:8787',
      reachable: false,
    });
  });

  it('creates a folder relay the user chose, with its relay.json', async () => {
    const dir = join(tempDir(), 'alice');
    const relay = join(tempDir(), 'relay');
    const init = await runCli(dir, ['--json', 'init', '--relay', relay, '--name', 'Alice', ...KDF]);
    expect(init.code, init.stderr).toBe(0);
    expect(existsSync(join(relay, 'relay.json'))).toBe(true);
    const invite = await runCli(dir, ['invite']);
    expect(invite.stdout).toMatch(/^sotto:\/\/invite\/2#/);
  });
});
