import { describe, expect, it } from 'vitest';
import { toFtsQuery } from '../../../electron/core/history/history.ts';

describe('search input to FTS5 query', () => {
  it('quotes every word and makes the last one a prefix', () => {
    expect(toFtsQuery('see you tomor')).toBe('"see" "you" "tomor"*');
  });

  it('neutralizes FTS5 syntax and quotes in user input', () => {
    expect(toFtsQuery('a" OR body:x NEAR(')).toBe('"a""" "OR" "body:x" "NEAR("*');
  });

  it('returns nothing for blank input', () => {
    expect(toFtsQuery('  \t ')).toBeUndefined();
  });
});
