// Splits a message body into text and https links, so links are built as
// nodes (never as HTML, never v-html). Only https:// with a host and no
// credentials is linked, the same rule main applies before opening anything
// (electron/main/security.ts isSafeExternalUrl); everything else — http://,
// javascript:, data:, file: — stays plain text.

export type BodySegment =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'link'; readonly text: string; readonly href: string };

/** Longer than this is not treated as a link (still shown as text). */
export const MAX_LINK_LENGTH = 4096;

// A candidate starts with a host right after "https://" (the URL parser would
// accept "https:///host" too) and runs to the next whitespace or character that
// cannot be part of a URL in text; a backslash ends it (the parser reads it as
// "/", so "https://a.b\@c.d" would open a.b while reading like c.d).
const CANDIDATE = /https:\/\/[^\s/\\<>"'`][^\s\\<>"'`]*/gi;
// Sentence punctuation after a URL belongs to the sentence.
const TRAILING = /[.,;:!?'"…]+$/;

/** Drops a trailing ")" or "]" that has no opening partner inside the URL, as in "(see https://a.b/c)". */
function trimUnbalanced(url: string): string {
  let end = url;
  for (;;) {
    const stripped = end.replace(TRAILING, '');
    const last = stripped.at(-1);
    const pair = last === ')' ? '(' : last === ']' ? '[' : null;
    if (pair && stripped.split(pair).length - 1 < stripped.split(last ?? '').length - 1) {
      end = stripped.slice(0, -1);
      continue;
    }
    return stripped;
  }
}

/** The URL main would open for `text` (normalized: punycode host), or null if it is not a safe https URL. */
export function safeHref(text: string): string | null {
  if (text.length > MAX_LINK_LENGTH) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.hostname === '' || url.username || url.password) return null;
  return url.href;
}

/** The body as plain-text and link segments, in order; joined, their texts are the body. */
export function bodySegments(body: string): BodySegment[] {
  const segments: BodySegment[] = [];
  let at = 0;
  for (const match of body.matchAll(CANDIDATE)) {
    const start = match.index;
    const text = trimUnbalanced(match[0]);
    const href = safeHref(text);
    if (href === null) continue;
    if (start > at) segments.push({ kind: 'text', text: body.slice(at, start) });
    segments.push({ kind: 'link', text, href });
    at = start + text.length;
  }
  if (at < body.length) segments.push({ kind: 'text', text: body.slice(at) });
  return segments;
}

/** True when the host is written with look-alike-prone characters (non-ASCII, shown as punycode). */
export function hasInternationalHost(href: string): boolean {
  return new URL(href).hostname.split('.').some((label) => label.startsWith('xn--'));
}
