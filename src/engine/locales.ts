import fs from 'node:fs';
import { REQUIRED_LOCALES, type Locale } from './types';

/** A language folder's name: an ISO 639 code, optionally with a region or script (`vi`, `en`, `hmn`, `zh-Hant`). */
const LOCALE_FOLDER = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/;

/**
 * The languages on offer: the folders of `localesDir` (Vietnamese and English first, then the others by name).
 * Adding `locales/<lang>/` is all it takes to offer a language; start-up then checks it has every text.
 */
export function discoverLocales(localesDir: string): Locale[] {
  const found = fs.existsSync(localesDir)
    ? fs
        .readdirSync(localesDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && LOCALE_FOLDER.test(d.name))
        .map((d) => d.name)
    : [];
  return [...REQUIRED_LOCALES, ...found.filter((l) => !REQUIRED_LOCALES.includes(l)).sort()];
}
