// The one `Range` form media elements send (RFC 9110 §14.1.2): a single byte
// range, `bytes=a-b`, `bytes=a-` or the suffix `bytes=-n`. Anything else,
// including several ranges, is refused rather than guessed at.

/** A satisfiable range, inclusive at both ends. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The range a header asks of a `size`-byte body: null when there is no
 * header (the whole body), 'unsatisfiable' when it is malformed, several
 * ranges, or outside the body (416).
 */
export function parseByteRange(
  header: string | null,
  size: number,
): ByteRange | null | 'unsatisfiable' {
  if (header === null) return null;
  const match = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(header.trim());
  if (!match) return 'unsatisfiable';
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return 'unsatisfiable';
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || (to !== '' && Number(to) < start)) return 'unsatisfiable';
  return { start, end };
}
