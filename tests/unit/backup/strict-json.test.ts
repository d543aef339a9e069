import { describe, expect, it } from 'vitest';
import {
  parseStrictJson,
  StrictJsonError,
} from '../../../electron/core/backup/format/strict-json.ts';

// Backup records are I-JSON: what JSON.parse would silently change (the last
// of two members wins; "\ud800" becomes a string SQLite stores as U+FFFD) is
// refused instead.

function fault(text: string): string | undefined {
  try {
    parseStrictJson(text);
  } catch (error) {
    return error instanceof StrictJsonError ? error.fault : `other: ${String(error)}`;
  }
  return undefined;
}

describe('strict JSON for backup records', () => {
  it('parses what JSON.parse parses when no rule is broken, with the same value', () => {
    const texts = [
      '{"type":"message","body":"a: b, \\"c\\": d","n":1}',
      '{"a":{"b":[{"c":1},{"c":2}]},"b":"\\\\","c":"\\\\\\"x:"}',
      '{"emoji":"😀 \\ud83d\\ude00","sep":"\u2028\u2029\u0085"}',
      '{"__proto__":1,"constructor":{"x":":"}}',
      '[1,"x",{"a":null}]',
      '"just a string"',
      '{ "spaced" : 1 , "out" : [ ] }',
    ];
    for (const text of texts) expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(parseStrictJson('{"__proto__":{"polluted":true}}'))).toBe(
      Object.prototype,
    );
  });

  it('refuses a duplicate member name anywhere: top level, nested, spelled with an escape, __proto__', () => {
    const texts = [
      '{"type":"message","body":"mine","body":"theirs"}',
      '{"identity":{"publicKey":"a","publicKey":"b"}}',
      '{"list":[{"x":1,"x":1}]}',
      '{"body":"one","\\u0062ody":"two"}',
      '{"__proto__":1,"__proto__":2}',
      '{"a":"\\"","a":"\\\\"}',
    ];
    for (const text of texts) expect([text, fault(text)]).toEqual([text, 'duplicate member']);
    // JSON.parse alone keeps the last one: the reason for this parser.
    expect(JSON.parse(texts[0]!)).toEqual({ type: 'message', body: 'theirs' });
  });

  it('finds a duplicate the quick count could miss: whitespace before a colon, or an escaped quote-colon in a string', () => {
    expect(fault('{"a":1,"a" :2}')).toBe('duplicate member');
    expect(fault('{"a":1,"a"\n\t:2}')).toBe('duplicate member');
    expect(fault('{"a":"\\":","a":1}')).toBe('duplicate member');
    expect(fault('{"a":"x\\":y","b" : "\\":"}')).toBeUndefined();
  });

  it('does not mistake colons, quotes or backslashes inside strings for structure', () => {
    expect(fault('{"a":"x\\\\","b":"\\\\\\":\\\\"}')).toBeUndefined();
    expect(fault('{"k:":"v:","k2":"::"}')).toBeUndefined();
    expect(fault('{"a":"\\\\\\\\","a2":":"}')).toBeUndefined();
  });

  it('refuses a lone surrogate, escaped, in a value or a member name; a pair is fine', () => {
    for (const text of [
      '{"body":"\\ud800"}',
      '{"body":"x\\udc00y"}',
      '{"\\ud83d":1}',
      '{"a":["\\ude00\\ud83d"]}',
      '"\\ud800"',
    ]) {
      expect([text, fault(text)]).toEqual([text, 'lone surrogate']);
    }
    expect(fault('{"body":"\\ud83d\\ude00"}')).toBeUndefined();
    // Raw in the text (not from UTF-8, which cannot encode one, but from any other source).
    expect(fault('{"body":"raw \ud800 surrogate"}')).toBe('lone surrogate');
  });

  it('refuses what is not JSON', () => {
    for (const text of ['', '{', '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}', 'NaN', '{"a":01}'])
      expect(fault(text)).toBe('syntax');
  });
});
