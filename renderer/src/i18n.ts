// All UI text comes from locales/*.json (no hard-coded strings in components).
// English is the only language so far; the `language` setting already selects it.
import { createI18n } from 'vue-i18n';
import en from './locales/en.json';

export type MessageSchema = typeof en;

/** Languages the UI ships (the settings page lists these). */
export const LANGUAGES = ['en'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

export function createAppI18n() {
  return createI18n<[MessageSchema], Language, false>({
    legacy: false,
    locale: 'en',
    fallbackLocale: 'en',
    messages: { en },
    // Dates and times follow the locale through Intl directly (see composables/useFormat.ts).
    missingWarn: false,
    fallbackWarn: false,
  });
}

export type AppI18n = ReturnType<typeof createAppI18n>;
