import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { formatZodIssues } from '../errors';
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

/**
 * Reads `<localesDir>/<locale>/<fileName>` of every locale and checks each with `schema`. A missing file, bad JSON or
 * a wrong shape is a problem line naming the file (as shown from `displayRoot`) and the path inside it; the files that
 * passed come back with their locale and shown name.
 */
export function readLocaleFiles<T>(
  localesDir: string,
  fileName: string,
  schema: z.ZodType<T>,
  displayRoot: string,
): { files: Array<{ locale: Locale; shown: string; data: T }>; problems: string[] } {
  const problems: string[] = [];
  const files: Array<{ locale: Locale; shown: string; data: T }> = [];
  for (const locale of discoverLocales(localesDir)) {
    const full = path.join(localesDir, locale, fileName);
    const shown = path.relative(displayRoot, full) || full;
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(full, 'utf8'));
    } catch (err) {
      problems.push(`${shown}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(err as Error).message})`}`);
      continue;
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      for (const line of formatZodIssues(parsed.error.issues, '(file)')) problems.push(`${shown}: ${line}`);
      continue;
    }
    files.push({ locale, shown, data: parsed.data });
  }
  return { files, problems };
}
