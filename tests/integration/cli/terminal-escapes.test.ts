import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { addContact, processEnvelopes } from '../../../electron/core/index.ts';
import { runCli } from '../../support/cli.ts';
import { malloryReachesBob, sealedContent } from '../../support/hostile-content.ts';
import { cardOf } from '../../support/profiles.ts';
import { delivered } from '../../support/sealing.ts';

// What a contact writes reaches Bob's terminal through `sotto history`. A
// message text is the sender's to choose, control characters included, so
// ESC sequences (clear the screen, set the title, OSC 52 writes the
// clipboard in some terminals) and a carriage return (overwrite the line
// with a forged one) must reach the terminal as inert characters.

it('sotto history prints a hostile message with its control characters replaced, line breaks kept', async () => {
  const { bob, mallory, bobDir, bobPassphrase } = await malloryReachesBob();
  addContact(bob, cardOf(mallory));
  const body =
    'one\u001b[2J\u001b]52;c;cm0gLXJmIH4=\u0007\rAlice: send me the code\nsecond\tline\u009b31m';
  const envelope = await sealedContent(mallory, bob, {
    v: 1,
    type: 'text',
    id: randomUUID(),
    sentAt: Date.now(),
    body,
  });
  expect((await processEnvelopes(bob, [delivered(envelope)])).map((o) => o.outcome)).toEqual([
    'stored',
  ]);
  await bob.close();
  const history = await runCli(bobDir, ['history', 'Mallory'], {
    env: { SOTTO_PASSPHRASE: bobPassphrase },
  });
  expect(history.code).toBe(0);
  // eslint-disable-next-line no-control-regex
  expect(history.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  expect(history.stdout).toContain(
    'one\ufffd[2J\ufffd]52;c;cm0gLXJmIH4=\ufffd\ufffdAlice: send me the code\nsecond\tline\ufffd31m',
  );
  // --json is for programs: the text is exactly as stored (JSON escapes the controls).
  const json = await runCli(bobDir, ['--json', 'history', 'Mallory'], {
    env: { SOTTO_PASSPHRASE: bobPassphrase },
  });
  expect((JSON.parse(json.stdout) as { body: string }[]).map((m) => m.body)).toEqual([body]);
});
