import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/index.ts';
import { waitFor } from '../../support/blob-http.ts';
import { CLI_PASSPHRASE } from '../../support/cli.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';
import { useTmux } from '../../support/tmux.ts';

// With no SOTTO_PASSPHRASE, `sotto` asks on the terminal (electron/cli/context.ts
// askHidden, whose prompt library loads only then). The CLI runs in a tmux
// session, the passphrase is typed with send-keys, and the pane shows what a
// person would see: the prompt, never the passphrase.

const tmux = useTmux('prompt');

/** Runs `sotto --profile DIR ARGS` in a terminal, types `typed` at its prompt; its exit code and the pane. */
async function onTerminal(profile: string, args: string, typed: string) {
  const status = join(tempDir(), 'status');
  const bin = join(process.cwd(), 'bin/sotto.js');
  tmux(
    'new-session',
    '-d',
    '-s',
    'sotto',
    '-x',
    '200',
    '-y',
    '20',
    `env -u SOTTO_PASSPHRASE '${process.execPath}' '${bin}' --profile '${profile}' ${args}; echo $? > '${status}'; sleep 60`,
  );
  const pane = () => tmux('capture-pane', '-p', '-t', 'sotto');
  await waitFor(() => /Passphrase/.test(pane()), 'the passphrase prompt');
  tmux('send-keys', '-t', 'sotto', '-l', typed);
  tmux('send-keys', '-t', 'sotto', 'Enter');
  await waitFor(
    () => existsSync(status) && readFileSync(status, 'utf8').endsWith('\n'),
    'sotto to exit',
    60_000,
  );
  return { code: Number(readFileSync(status, 'utf8').trim()), pane: pane() };
}

describe('the passphrase prompt', () => {
  it('unlocks with what is typed, shows no character of it, and refuses a wrong one (exit 3)', async () => {
    const dir = join(tempDir(), 'profile');
    const profile = await Profile.create(dir, {
      displayName: 'Ann',
      passphrase: CLI_PASSPHRASE,
      kdfCost: TEST_KDF,
    });
    await profile.close();

    const right = await onTerminal(dir, '--json contacts', CLI_PASSPHRASE);
    expect(right.code, right.pane).toBe(0);
    expect(right.pane).toContain('[]');
    expect(right.pane).not.toContain('horse');
    tmux('kill-server');

    const wrong = await onTerminal(dir, 'contacts', 'not the passphrase');
    expect(wrong.code, wrong.pane).toBe(3);
    expect(wrong.pane).toContain('WRONG_PASSPHRASE');
    expect(wrong.pane).not.toContain('not the passphrase');
  });
});
