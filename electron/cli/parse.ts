import { Option } from 'commander';
import { SottoError } from '../core/errors.ts';
import { type MuteDuration, parseMuteDuration } from '../../shared/mute.ts';

// Option parsers the command definitions use. Light on purpose: `sotto --help`
// and argument errors load this, never the core (docs/architecture.md#build).

/** Commander parser for a positive integer option. */
export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new SottoError('INVALID_INPUT', 'expected a positive integer');
  return n;
}

/** Commander parser for `--for`: a mute's length (null: always); INVALID_INPUT outside 1 minute to a year. */
export function parseMuteFor(value: string): MuteDuration {
  const duration = parseMuteDuration(value);
  if (duration === undefined)
    throw new SottoError(
      'INVALID_INPUT',
      'a duration is 30m, 8h, 2d or 1w (a year at most) or always',
    );
  return duration;
}

/** The hidden test/bench option that lowers scrypt's work factor; never a default. */
export function workFactorOption(): Option {
  return new Option('--scrypt-work-factor <logN>', 'scrypt work factor (tests and benchmarks only)')
    .argParser(parsePositive)
    .hideHelp();
}
