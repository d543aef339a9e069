import { useI18n } from 'vue-i18n';

/** A byte count as people read it (B, KB, MB, GB; decimal units, in the UI language). */
export function useFileSize(): (bytes: number) => string {
  const { locale } = useI18n();
  return (bytes) => {
    const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
    let value = bytes;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit++;
    }
    return new Intl.NumberFormat(locale.value, {
      style: 'unit',
      unit: units[unit],
      unitDisplay: 'short',
      maximumFractionDigits: unit === 0 ? 0 : 1,
    }).format(value);
  };
}
