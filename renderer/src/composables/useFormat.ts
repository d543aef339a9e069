import { useI18n } from 'vue-i18n';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A local calendar day key (YYYY-MM-DD) for grouping messages under day separators. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Dates and times in the UI language, via Intl. */
export function useFormat() {
  const { t, locale } = useI18n();

  function time(ms: number): string {
    return new Intl.DateTimeFormat(locale.value, { hour: 'numeric', minute: '2-digit' }).format(ms);
  }

  function day(ms: number, now = Date.now()): string {
    const key = dayKey(ms);
    if (key === dayKey(now)) return t('time.today');
    if (key === dayKey(now - DAY_MS)) return t('time.yesterday');
    return new Intl.DateTimeFormat(locale.value, { dateStyle: 'full' }).format(ms);
  }

  /** Short form for lists: a time today, otherwise a date. */
  function short(ms: number, now = Date.now()): string {
    if (dayKey(ms) === dayKey(now)) return time(ms);
    return new Intl.DateTimeFormat(locale.value, { dateStyle: 'medium' }).format(ms);
  }

  function dateTime(ms: number): string {
    return new Intl.DateTimeFormat(locale.value, {
      dateStyle: 'medium',
      timeStyle: 'short',
    }).format(ms);
  }

  return { time, day, short, dateTime };
}
