import { MAX_NAME_CHARS } from '../../../shared/protocol/content.ts';
import { SottoError } from '../errors.ts';

// The one rule for a display name the user sets. It must fit what every later
// message carries (content.ts: `name`, at most MAX_NAME_CHARS, counted as
// JavaScript string length, as zod counts), or each send would fail long after
// the name was accepted.

/**
 * Control characters (C0, DEL, C1) and the bidirectional embedding, override
 * and isolate controls: a name with them could rewrite how the text around it
 * reads (a contact list line, a notification title, a CLI table).
 */
const FORBIDDEN = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

/** A lone UTF-16 surrogate: not text, and UTF-8 encoding would silently change it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The display name as stored: NFC, trimmed, 1 to MAX_NAME_CHARS characters,
 * no control characters. Anything else is INVALID_NAME.
 */
export function normalizeDisplayName(name: string): string {
  if (LONE_SURROGATE.test(name)) throw new SottoError('INVALID_NAME');
  const normalized = name.normalize('NFC').trim();
  if (normalized.length === 0 || normalized.length > MAX_NAME_CHARS || FORBIDDEN.test(normalized)) {
    throw new SottoError('INVALID_NAME');
  }
  return normalized;
}

/**
 * A name someone else chose (a first message's `name`, a group member's), as
 * normalizeDisplayName stores it, or undefined if it breaks the rule: the
 * contact is then unnamed, never named with characters that rewrite a line.
 */
export function receivedDisplayName(name: string): string | undefined {
  try {
    return normalizeDisplayName(name);
  } catch {
    return undefined;
  }
}
