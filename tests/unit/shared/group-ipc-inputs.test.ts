import { describe, expect, it } from 'vitest';
import { methods } from '../../../shared/ipc/contract.ts';
import { parseMuteDuration, MAX_MUTE_MS, MIN_MUTE_MS } from '../../../shared/mute.ts';

// The schemas of this change's IPC inputs and the CLI's --for parser refuse
// what a hostile or broken caller may send.

const groupId = `${'G'.repeat(43)}=`;
const cursor = { sentAt: 5, id: 3 };

describe('groups:messages paging input', () => {
  it('takes before or after, never both, and refuses forged cursors', () => {
    const parse = (input: object) =>
      methods['groups:messages'].input.safeParse({ groupId, limit: 50, ...input }).success;
    expect(parse({ before: cursor })).toBe(true);
    expect(parse({ after: cursor })).toBe(true);
    expect(parse({ before: cursor, after: cursor })).toBe(false);
    for (const after of [{ sentAt: 1, id: 0 }, { sentAt: '1', id: 1 }, { id: 1 }, null, 'x'])
      expect(parse({ after })).toBe(false);
  });
});

describe('groups:retry input', () => {
  it('takes one positive message id and nothing else', () => {
    const parse = (input: unknown) => methods['groups:retry'].input.safeParse(input).success;
    expect(parse({ messageId: 7 })).toBe(true);
    for (const messageId of [0, -1, 1.5, '7', null, Number.NaN])
      expect(parse({ messageId })).toBe(false);
    expect(parse({ messageId: 7, groupId })).toBe(false);
  });
});

describe('mute durations as typed', () => {
  it('reads m/h/d/w and always, within a minute to a year', () => {
    expect(parseMuteDuration('30m')).toBe(30 * 60_000);
    expect(parseMuteDuration('8h')).toBe(8 * 3_600_000);
    expect(parseMuteDuration('1w')).toBe(7 * 24 * 3_600_000);
    expect(parseMuteDuration('always')).toBeNull();
    expect(parseMuteDuration('1m')).toBe(MIN_MUTE_MS);
    expect(parseMuteDuration('365d')).toBe(MAX_MUTE_MS);
    for (const bad of [
      '366d',
      '53w',
      '0m',
      '-1h',
      '01h',
      '1H',
      ' 8h',
      '8h ',
      '1e3h',
      '9999999h',
      'ALWAYS',
      '',
    ])
      expect(parseMuteDuration(bad), bad).toBeUndefined();
  });
});
