// Splits text into plain and matched parts so search hits can be highlighted
// with <mark> elements (no HTML strings, no v-html).

export interface TextPart {
  readonly text: string;
  readonly match: boolean;
}

/** The words of a query, longest first (so a longer word wins over its prefix). */
export function queryTerms(query: string): string[] {
  const terms = query
    .toLowerCase()
    .split(/\s+/)
    .map((term) => term.replace(/^["'*(]+|["'*)]+$/g, ''))
    .filter((term) => term !== '' && !['and', 'or', 'not'].includes(term));
  return [...new Set(terms)].sort((a, b) => b.length - a.length);
}

/** Marks every case-insensitive occurrence of the terms in `text`. */
export function highlightParts(text: string, terms: readonly string[]): TextPart[] {
  if (terms.length === 0) return [{ text, match: false }];
  const lower = text.toLowerCase();
  const parts: TextPart[] = [];
  let plainStart = 0;
  let i = 0;
  while (i < text.length) {
    const term = terms.find((candidate) => lower.startsWith(candidate, i));
    if (!term) {
      i++;
      continue;
    }
    if (i > plainStart) parts.push({ text: text.slice(plainStart, i), match: false });
    parts.push({ text: text.slice(i, i + term.length), match: true });
    i += term.length;
    plainStart = i;
  }
  if (plainStart < text.length) parts.push({ text: text.slice(plainStart), match: false });
  return parts;
}

/**
 * A short excerpt of `text` centred on the first hit (ellipses where cut), so
 * a long message shows the words that matched.
 */
export function snippet(text: string, terms: readonly string[], radius = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const lower = flat.toLowerCase();
  const hits = terms.map((term) => lower.indexOf(term)).filter((index) => index >= 0);
  const first = hits.length > 0 ? Math.min(...hits) : 0;
  const start = Math.max(0, first - radius);
  const end = Math.min(flat.length, first + radius * 2);
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}
