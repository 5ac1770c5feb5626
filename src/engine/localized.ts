import type { Locale } from './types';

/**
 * A text of the locality data (kept in Vietnamese and English) in the person's language; Vietnamese for a language
 * the data does not have (a district adding a language adds its texts to `locales/`, not to the locality file).
 */
export function localized<T>(values: Readonly<Record<'vi' | 'en', T>>, locale: Locale): T;
export function localized<T>(values: Readonly<Record<'vi' | 'en', T>> | null | undefined, locale: Locale): T | undefined;
export function localized<T>(values: Readonly<Record<'vi' | 'en', T>> | null | undefined, locale: Locale): T | undefined {
  if (!values) return undefined;
  return locale === 'en' ? values.en : values.vi;
}
