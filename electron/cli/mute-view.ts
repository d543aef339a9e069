import { MUTE_FOREVER } from '../../shared/mute.ts';

// How the listings (`contacts`, `groups`) show a mute: `--json` gets
// `muted: { until, always } | null` (until: epoch ms, null when always, as
// `mute` prints it), the text a " muted until ..." suffix.

/** A conversation's or group's mute in --json listings; null when not muted. */
export interface MuteView {
  readonly until: number | null;
  readonly always: boolean;
}

/** The view of an active mute end (activeMute's answer: null when none). */
export function muteView(mutedUntil: number | null): MuteView | null {
  if (mutedUntil === null) return null;
  const always = mutedUntil === MUTE_FOREVER;
  return { until: always ? null : mutedUntil, always };
}

/** The text suffix for a listing line: '' when not muted. */
export function muteSuffix(view: MuteView | null): string {
  if (!view) return '';
  return view.until === null
    ? ' muted until you unmute'
    : ` muted until ${new Date(view.until).toLocaleString()}`;
}
