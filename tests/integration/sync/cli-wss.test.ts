import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import { selfSigned } from '../../support/certificates.ts';

// Two real `sotto` CLI profiles talking through a real `sotto-relay` serving
// wss:// with a self-signed certificate (made here with the openssl CLI). The
// clients trust it only through NODE_EXTRA_CA_CERTS: certificate checks stay on.

const relays: RelayProcess[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
});

const KDF = ['--kdf-memory', '64', '--kdf-iterations', '3']; // the CLI's floor (docs/key-file.md)

async function tlsRelay(): Promise<{ url: string; cert: string }> {
  const { cert, key } = selfSigned(tempDir(), '127.0.0.1');
  const relay = await startRelayProcess(tempDir(), {
    args: ['--tls-cert', cert, '--tls-key', key],
  });
  relays.push(relay);
  expect(relay.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+/);
  return { url: relay.url, cert };
}

async function ok(
  dir: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<string> {
  const result = await runCli(dir, args, { env, ...(input === undefined ? {} : { input }) });
  expect(result.code, `sotto ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

describe('two CLI profiles over wss:// with a self-signed certificate', () => {
  it('exchange messages when the certificate is trusted', async () => {
    const { url, cert } = await tlsRelay();
    const env = { NODE_EXTRA_CA_CERTS: cert };
    const alice = join(tempDir(), 'alice');
    const bob = join(tempDir(), 'bob');
    expect(
      JSON.parse(
        await ok(alice, ['--json', 'init', '--relay', url, '--name', 'Alice', ...KDF], env),
      ),
    ).toMatchObject({ published: true });
    expect(
      JSON.parse(await ok(bob, ['--json', 'init', '--relay', url, '--name', 'Bob', ...KDF], env)),
    ).toMatchObject({ published: true });
    await ok(bob, ['contact', 'add', (await ok(alice, ['invite'], env)).trim()], env);
    await ok(alice, ['contact', 'add', (await ok(bob, ['invite'], env)).trim()], env);

    expect(JSON.parse(await ok(alice, ['--json', 'send', 'Bob', 'over TLS'], env))).toEqual({
      queued: 1,
      sent: 1,
    });
    expect(JSON.parse(await ok(bob, ['--json', 'sync'], env))).toMatchObject({ stored: 1 });
    expect(JSON.parse(await ok(bob, ['--json', 'send', 'Alice', 'and back'], env))).toEqual({
      queued: 1,
      sent: 1,
    });
    expect(JSON.parse(await ok(alice, ['--json', 'sync'], env))).toMatchObject({ stored: 1 });
    const history = JSON.parse(await ok(alice, ['--json', 'history', 'Bob'], env)) as {
      body: string;
    }[];
    expect(history.map((m) => m.body).sort()).toEqual(['and back', 'over TLS']);
  });

  it('refuse a certificate nobody vouched for: nothing is published, the invite cannot be made', async () => {
    const { url } = await tlsRelay();
    const alice = join(tempDir(), 'alice');
    expect(
      JSON.parse(
        await ok(alice, ['--json', 'init', '--relay', url, '--name', 'Alice', ...KDF], {}),
      ),
    ).toMatchObject({ published: false });
    const invite = await runCli(alice, ['invite']);
    expect(invite.code).toBe(5);
    expect(invite.stderr).toContain('RELAY_UNAVAILABLE');
  });
});
