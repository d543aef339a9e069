import { Profile, SottoError } from '../core/index.ts';
import { SyncEngine } from '../core/sync/engine.ts';

/** Global options every command sees. */
export interface GlobalOptions {
  readonly profile?: string;
  readonly json?: boolean;
}

/**
 * Asks on the terminal without echoing. The prompt library is imported here,
 * when a prompt is shown: scripts and tests pass the passphrase in the
 * environment, and loading it cost every run ~25 ms of CPU.
 */
export async function askHidden(message: string): Promise<string> {
  const { default: password } = await import('@inquirer/password');
  return password({ message, mask: true });
}

/** Reads the passphrase: SOTTO_PASSPHRASE for scripts, else a hidden prompt on the terminal. */
export async function readPassphrase(message = 'Passphrase'): Promise<string> {
  const fromEnv = process.env['SOTTO_PASSPHRASE'];
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY)
    throw new SottoError('PASSPHRASE_REQUIRED', 'no terminal and no SOTTO_PASSPHRASE');
  return askHidden(message);
}

/**
 * Reads a passphrase being chosen: from `envName` for scripts, else asked for
 * twice on the terminal (INVALID_INPUT if the two differ). Its strength is the
 * core's decision (WEAK_PASSPHRASE), not the CLI's.
 */
export async function readNewPassphrase(
  message: string,
  envName = 'SOTTO_PASSPHRASE',
): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY)
    throw new SottoError('PASSPHRASE_REQUIRED', `no terminal and no ${envName}`);
  const passphrase = await askHidden(message);
  if ((await askHidden('Repeat passphrase')) !== passphrase) {
    throw new SottoError('INVALID_INPUT', 'the passphrases differ');
  }
  return passphrase;
}

/** The --profile directory (or SOTTO_PROFILE); every command but `backup verify` needs one. */
export function profileDir(options: GlobalOptions): string {
  if (!options.profile)
    throw new SottoError('INVALID_INPUT', '--profile <dir> (or SOTTO_PROFILE) is required');
  return options.profile;
}

/** Opens the profile, runs `work`, and always closes it (releasing the lock). */
export async function withProfile<T>(
  options: GlobalOptions,
  work: (profile: Profile) => Promise<T>,
): Promise<T> {
  const profile = await Profile.open(profileDir(options), { passphrase: await readPassphrase() });
  try {
    return await work(profile);
  } finally {
    await profile.close();
  }
}

/** Like withProfile, with a sync engine whose relay connections are closed afterwards. */
export function withEngine<T>(
  options: GlobalOptions,
  work: (profile: Profile, engine: SyncEngine) => Promise<T>,
): Promise<T> {
  return withProfile(options, async (profile) => {
    const engine = new SyncEngine(profile);
    try {
      return await work(profile, engine);
    } finally {
      await engine.close();
    }
  });
}

/**
 * Control characters but tab and line feed (C0, DEL, C1): the human text
 * holds what contacts wrote (message text, names, titles, file names), and a
 * terminal obeys ESC sequences (clear, retitle, OSC 52 clipboard writes) and a
 * carriage return overwrites the line; each is printed as U+FFFD instead.
 */
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Prints `value` as one JSON line with --json (controls escaped by JSON), else the human text made inert. */
export function print(options: GlobalOptions, value: unknown, text: () => string): void {
  process.stdout.write(
    options.json
      ? `${JSON.stringify(value)}\n`
      : `${text().replace(TERMINAL_CONTROLS, '\ufffd')}\n`,
  );
}
