// A group sender's name color: stable per account id (the same person has the
// same color in every group, on every launch), one of a few hues that each
// pass WCAG AA on the incoming bubble in both themes (styles/groups.css). The
// name itself is always shown: color only helps, it never tells senders apart alone.

/** How many sender hues the stylesheet defines (`.sender-hue-0` …). */
export const SENDER_HUES = 6;

/** The hue index of an account id: FNV-1a over its characters. */
export function senderHue(accountId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    hash ^= accountId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % SENDER_HUES;
}
