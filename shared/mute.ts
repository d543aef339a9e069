// Muting a conversation or a group (docs/architecture.md#notifications): a
// muted one raises no notification and adds nothing to the app's badge. A
// mute is an end time in epoch milliseconds, checked against the clock when a
// message arrives or the badge is counted: nothing wakes up when it expires.
// No zod here: the CLI's --help loads this file and must stay light.

/** "Until I unmute": the latest time a JavaScript Date can hold. */
export const MUTE_FOREVER = 8_640_000_000_000_000;
/** The shortest timed mute (shorter ones would be over before anyone noticed). */
export const MIN_MUTE_MS = 60_000;
/** The longest timed mute: a year. Longer is "always" (MUTE_FOREVER). */
export const MAX_MUTE_MS = 365 * 24 * 3_600_000;

/** The app's menu choices, as durations (null: until unmuted). */
export const MUTE_CHOICES = {
  hour: 3_600_000,
  eightHours: 8 * 3_600_000,
  week: 7 * 24 * 3_600_000,
  always: null,
} as const;

/** A mute's length: whole milliseconds in [MIN_MUTE_MS, MAX_MUTE_MS], or null for always (the IPC schema: shared/ipc/mute.ts). */
export type MuteDuration = number | null;

/** A stored end time as the app sees it: null when not muted or expired by `now`. */
export function activeMute(mutedUntil: number | null, now: number): number | null {
  return mutedUntil !== null && mutedUntil > now ? mutedUntil : null;
}

/** When a mute of `duration` starting at `now` ends (MUTE_FOREVER for always). */
export function muteEnd(duration: MuteDuration, now: number): number {
  return duration === null ? MUTE_FOREVER : now + duration;
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 24 * 3_600_000, w: 7 * 24 * 3_600_000 } as const;

/**
 * A duration as a person types it (`30m`, `8h`, `2d`, `1w`, `always`), or
 * undefined if it is not one or lies outside [MIN_MUTE_MS, MAX_MUTE_MS].
 */
export function parseMuteDuration(text: string): MuteDuration | undefined {
  if (text === 'always') return null;
  const match = /^([1-9][0-9]{0,5})([mhdw])$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms >= MIN_MUTE_MS && ms <= MAX_MUTE_MS ? ms : undefined;
}
