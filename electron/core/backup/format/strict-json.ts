// One backup record is one JSON text, read with the rules of I-JSON (RFC 7493)
// on top of RFC 8259: no object has two members with the same name, and no
// string holds a lone surrogate. JSON.parse enforces neither: it keeps the
// last of two members silently (so what a reader sees could differ from what
// another reader of the same bytes sees), and it turns `"\ud800"` into a
// string that SQLite then stores as U+FFFD. The grammar is left to JSON.parse
// (native, fast); the two rules are checked on its result and the text.

/** Why a text is not strict JSON. */
export type StrictJsonFault = 'syntax' | 'duplicate member' | 'lone surrogate';

/** A text that breaks RFC 8259 or the two I-JSON rules above. */
export class StrictJsonError extends Error {
  constructor(readonly fault: StrictJsonFault) {
    super(`not strict JSON: ${fault}`);
  }
}

/** A lone surrogate: under the `u` flag a valid pair is one code point, not a surrogate. */
const LONE_SURROGATE = /\p{Cs}/u;
/**
 * What sends a text down the slow, exact path: a `\uD800`–`\uDFFF` escape
 * (a lone surrogate once parsed?) or whitespace between a quote and a colon
 * (the quick member count below assumes member names end in `":`).
 */
const SLOW_PATH_HINT = /\\u[dD][89a-fA-F]|"\s+:/;

/** Parses `text` as one JSON value; throws StrictJsonError on a syntax error, a duplicate member name or a lone surrogate. */
export function parseStrictJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StrictJsonError('syntax');
  }
  // A backup holds millions of records, and nearly all take the quick path: two native scans.
  const exact = SLOW_PATH_HINT.test(text) || !isWellFormed(text);
  if (exact) checkSurrogates(value);
  const members = membersIn(value);
  // Quick: each member name ends in `":` (no whitespace, checked above), and so may an escaped quote
  // inside a string; so the count is never below the members in the text, and equal to the parsed
  // objects' members only if no name was dropped as a duplicate. Otherwise the exact count decides.
  const quick = exact ? -1 : occurrences(text, '":');
  if (quick !== members && colonsOutsideStrings(text) !== members)
    throw new StrictJsonError('duplicate member');
  return value;
}

/** String.prototype.isWellFormed (ES2024: in Node 20, not yet in the TypeScript lib this project targets). */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function occurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** Members of every object in `value`. */
function membersIn(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (const item of value) n += membersIn(item);
    return n;
  }
  for (const name in value) n += 1 + membersIn((value as Record<string, unknown>)[name]);
  return n;
}

/** Throws if any string in `value`, member names included, holds a lone surrogate. */
function checkSurrogates(value: unknown): void {
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) throw new StrictJsonError('lone surrogate');
  } else if (Array.isArray(value)) {
    for (const item of value) checkSurrogates(item);
  } else if (typeof value === 'object' && value !== null) {
    for (const [name, member] of Object.entries(value)) {
      checkSurrogates(name);
      checkSurrogates(member);
    }
  }
}

/**
 * Counts ':' outside string literals of a text JSON.parse accepted (so every
 * string is closed and a quote inside one is escaped).
 */
function colonsOutsideStrings(text: string): number {
  let colons = 0;
  let at = 0;
  for (;;) {
    const open = text.indexOf('"', at);
    const segmentEnd = open < 0 ? text.length : open;
    for (let i = at; i < segmentEnd; i++) if (text.charCodeAt(i) === 0x3a) colons++;
    if (open < 0) return colons;
    at = closingQuote(text, open + 1) + 1;
  }
}

/** The index of the quote that closes the string whose content starts at `from`. */
function closingQuote(text: string, from: number): number {
  for (let quote = text.indexOf('"', from); ; quote = text.indexOf('"', quote + 1)) {
    // A quote preceded by an odd run of backslashes is escaped.
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
}
