import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, cliPair, history, runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

const relays: RelayProcess[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
});

async function relay(dataDir = tempDir(), port = 0, args: string[] = []): Promise<RelayProcess> {
  const started = await startRelayProcess(dataDir, { port, args });
  relays.push(started);
  return started;
}

const lines = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix} ${i}`).join('\n');

describe('two people talking through the sotto CLI and a sotto-relay process', () => {
  it('500 messages each way; receipts bring every one to "delivered"; history is identical on both sides', async () => {
    const relayData = tempDir();
    const { url } = await relay(relayData);
    const { alice, bob } = await cliPair(tempDir(), url);

    expect(
      JSON.parse(await cli(alice, ['--json', 'send', 'Bob', '--stdin'], lines('alice says', 500))),
    ).toEqual({ queued: 500, sent: 500 });
    expect(JSON.parse(await cli(bob, ['--json', 'sync']))).toMatchObject({ stored: 500 });
    expect(
      JSON.parse(await cli(bob, ['--json', 'send', 'Alice', '--stdin'], lines('bob says', 500))),
    ).toEqual({ queued: 500, sent: 500 });
    // Alice receives Bob's 500 messages and the receipts for hers; Bob then receives the receipts for his.
    expect(JSON.parse(await cli(alice, ['--json', 'sync']))).toMatchObject({ stored: 500 });
    await cli(bob, ['sync']);

    const atAlice = await history(alice, 'Bob');
    const atBob = await history(bob, 'Alice');
    expect(atAlice).toHaveLength(1000);
    expect(atAlice.filter((m) => m.outgoing).every((m) => m.status === 'delivered')).toBe(true);
    expect(atBob.filter((m) => m.outgoing).every((m) => m.status === 'delivered')).toBe(true);
    const view = (messages: typeof atAlice) =>
      messages.map((m) => `${m.uuid} ${m.sentAt} ${m.body}`);
    expect(view(atBob)).toEqual(view(atAlice));
    expect(atBob.filter((m) => !m.outgoing).map((m) => m.body)).toEqual(
      lines('alice says', 500).split('\n'),
    );

    // The relay saw only ciphertext: no message text anywhere in its data directory.
    for (const file of readdirSync(relayData, { recursive: true, encoding: 'utf8' })) {
      if (!statSync(join(relayData, file)).isFile()) continue; // blobs/
      const bytes = readFileSync(join(relayData, file));
      for (const text of ['alice says 1', 'bob says 49'])
        expect(bytes.includes(Buffer.from(text)), `${file}: ${text}`).toBe(false);
    }
  });

  it('a message the relay keeps refusing is marked failed after the bound; retry reports it unsent (exit 5) while the relay refuses, and sends it once there is room', async () => {
    const { url } = await relay(tempDir(), 0, ['--mailbox-quota', '3']);
    const { alice, bob } = await cliPair(tempDir(), url);
    expect(
      JSON.parse(await cli(alice, ['--json', 'send', 'Bob', '--stdin'], lines('quota', 4))),
    ).toEqual({ queued: 4, sent: 3 });
    for (let attempt = 0; attempt < 4; attempt++) await cli(alice, ['sync']);
    const status = JSON.parse(await cli(alice, ['--json', 'status'])) as {
      failedMessages: number;
      outbox: number;
    };
    expect(status).toMatchObject({ failedMessages: 1, outbox: 1 });
    expect((await history(alice, 'Bob')).map((m) => m.status)).toEqual([
      'sent',
      'sent',
      'sent',
      'failed',
    ]);

    // Still no room: the relay refuses the retried send; it is reported unsent and the exit says so.
    const rows = JSON.parse(await cli(alice, ['--json', 'history', 'Bob'])) as { id: number }[];
    const failedId = rows.at(-1)!.id;
    const refused = await runCli(alice, ['--json', 'retry', 'Bob']);
    expect(refused.code, refused.stderr).toBe(5);
    expect(JSON.parse(refused.stdout)).toEqual({
      retried: 1,
      sent: 0,
      messages: [{ id: failedId, outcome: 'queued' }],
    });
    for (let attempt = 0; attempt < 4; attempt++) await cli(alice, ['sync']);

    await cli(bob, ['receive']); // empties Bob's mailbox
    expect(JSON.parse(await cli(alice, ['--json', 'retry', 'Bob']))).toEqual({
      retried: 1,
      sent: 1,
      messages: [{ id: failedId, outcome: 'sent' }],
    });
    expect(JSON.parse(await cli(bob, ['--json', 'receive']))).toMatchObject({ stored: 1 });
    expect((await history(bob, 'Alice')).map((m) => m.body)).toEqual(lines('quota', 4).split('\n'));
  }, 300_000); // some twenty CLI runs: minutes when the machine is busy

  it('with the relay down, sending queues and succeeds; when it is back, all 100 arrive once, in order', async () => {
    const data = tempDir();
    const first = await relay(data);
    const { alice, bob } = await cliPair(tempDir(), first.url);
    await first.stop();

    const queued = await runCli(alice, ['--json', 'send', 'Bob', '--stdin'], {
      input: lines('offline', 100),
    });
    expect(queued.code).toBe(0);
    expect(JSON.parse(queued.stdout)).toEqual({ queued: 100, sent: 0 });
    expect(JSON.parse(await cli(alice, ['--json', 'status']))).toMatchObject({
      reachable: false,
      outbox: 100,
    });

    await relay(data, first.port);
    expect(JSON.parse(await cli(alice, ['--json', 'sync']))).toMatchObject({
      sent: 100,
      waiting: 0,
    });
    expect(JSON.parse(await cli(bob, ['--json', 'receive']))).toMatchObject({ stored: 100 });
    expect(JSON.parse(await cli(bob, ['--json', 'receive']))).toMatchObject({ stored: 0 });
    expect((await history(bob, 'Alice')).map((m) => m.body)).toEqual(
      lines('offline', 100).split('\n'),
    );
  });

  it('search and safety numbers work from the CLI; both sides see the same safety number', async () => {
    const { url } = await relay();
    const { alice, bob } = await cliPair(tempDir(), url);
    await cli(alice, ['send', 'Bob', 'the quick brown fox']);
    await cli(bob, ['receive']);
    const hits = JSON.parse(await cli(bob, ['--json', 'search', 'qui'])) as { body: string }[];
    expect(hits.map((h) => h.body)).toEqual(['the quick brown fox']);
    const atAlice = JSON.parse(await cli(alice, ['--json', 'safety-number', 'Bob'])) as {
      digits: string;
    };
    const atBob = JSON.parse(await cli(bob, ['--json', 'safety-number', 'Alice'])) as {
      digits: string;
    };
    expect(atAlice.digits).toMatch(/^\d{60}$/);
    expect(atAlice.digits).toBe(atBob.digits);
    await cli(alice, ['verify', 'Bob']);
    expect(JSON.parse(await cli(alice, ['--json', 'contacts']))).toMatchObject([
      { displayName: 'Bob', verified: true },
    ]);
  });

  it('errors have documented exit codes and no stack traces', async () => {
    const { url } = await relay();
    const { alice } = await cliPair(tempDir(), url);
    const wrong = await runCli(alice, ['contacts'], { env: { SOTTO_PASSPHRASE: 'nope' } });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toBe(
      'sotto: WRONG_PASSPHRASE: the passphrase does not unlock this profile\n',
    );
    const unknown = await runCli(alice, ['send', 'Carol', 'hi']);
    expect(unknown.code).toBe(6);
    expect(unknown.stderr).toContain('UNKNOWN_CONTACT');
    const badInvite = await runCli(alice, ['contact', 'add', 'sotto://invite/1#garbage']);
    expect(badInvite.code).toBe(6);
    const usage = await runCli(alice, ['frobnicate']);
    expect(usage.code).toBe(2);
    const help = await runCli(alice, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes');
  });
});
