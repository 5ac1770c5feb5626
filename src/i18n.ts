import fs from 'node:fs';
import path from 'node:path';
import i18next, { type i18n as I18n } from 'i18next';
import { discoverLocales } from './engine/locales';
import type { Locale } from './engine/types';
import type { Translator } from './engine/contracts';
import { OperatorError } from './errors';

/** A locale file that cannot be read; names the file. */
export class LocaleFileError extends OperatorError {
  constructor(message: string) {
    super(message);
  }
}

/**
 * Loads `locales/<lang>/<namespace>.json` for every locale (from one or more folders; later ones add namespaces) into one i18next instance. A key is written
 * `<namespace>.<key>` (the file name first), e.g. `menu.title` is `title` in `locales/vi/menu.json`.
 */
export function loadTranslator(localesDirs: string | string[]): Translator {
  const resources: Record<string, { translation: Record<string, unknown> }> = {};
  const dirs = Array.isArray(localesDirs) ? localesDirs : [localesDirs];
  const locales = discoverLocales(dirs[0]!);
  for (const locale of locales) {
    const translation: Record<string, unknown> = {};
    for (const [i, localesDir] of dirs.entries()) {
      const dir = path.join(localesDir, locale);
      if (!fs.existsSync(dir)) {
        // A later folder only adds namespaces (tests' fixtures); the first one must have every language.
        if (i > 0) continue;
        throw new LocaleFileError(`Locale folder ${dir} is missing: every locale (${locales.join(', ')}) needs one.`);
      }
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
        const full = path.join(dir, file);
        try {
          translation[path.basename(file, '.json')] = JSON.parse(fs.readFileSync(full, 'utf8'));
        } catch (err) {
          throw new LocaleFileError(`${path.relative(process.cwd(), full)}: not valid JSON (${(err as Error).message})`);
        }
      }
    }
    resolveAddress(translation);
    resources[locale] = { translation };
  }
  const instance: I18n = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources,
    lng: 'vi',
    fallbackLng: false,
    interpolation: { escapeValue: false },
    returnNull: false,
    returnEmptyString: false,
  });
  // Every update renders a dozen texts; most are plain strings without `{{vars}}`, nesting or plurals. Those are
  // looked up once and returned as they are (exactly what i18next returns for them); the rest go through i18next.
  // The resources never change after start-up, so the cache never goes stale.
  const plain = new Map<string, string | null>();
  const plainText = (locale: Locale, key: string): string | null => {
    const id = `${locale}\u0000${key}`;
    let hit = plain.get(id);
    if (hit === undefined) {
      const raw: unknown = instance.getResource(locale, 'translation', key);
      hit = typeof raw === 'string' && raw !== '' && !raw.includes('{{') && !raw.includes('$t(') ? raw : null;
      plain.set(id, hit);
    }
    return hit;
  };
  return {
    locales,
    t: (locale: Locale, key: string, vars?: Record<string, unknown>) => {
      if (vars === undefined || (!('count' in vars) && !('context' in vars))) {
        const hit = plainText(locale, key);
        if (hit !== null) return hit;
      }
      const out = instance.t(key, { lng: locale, ...vars });
      return typeof out === 'string' ? out : key;
    },
    plain: plainText,
    has: (locale: Locale, key: string) => {
      if (!instance.exists(key, { lng: locale })) return false;
      return typeof instance.getResource(locale, 'translation', key) === 'string';
    },
  };
}

/**
 * How the bot addresses people is one word per language, `address.you` in `locales/<lang>/address.json` ("Anh/Chị" in
 * Vietnamese): texts write `{{you}}` and get that word here, once at start-up, so they stay plain strings.
 */
function resolveAddress(translation: Record<string, unknown>): void {
  const address = translation.address as Record<string, unknown> | undefined;
  const you = typeof address?.you === 'string' ? address.you : null;
  if (you === null) return;
  const walk = (node: Record<string, unknown>): void => {
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === 'string') node[key] = value.replaceAll('{{you}}', you);
      else if (value && typeof value === 'object' && !Array.isArray(value)) walk(value as Record<string, unknown>);
    }
  };
  for (const [namespace, value] of Object.entries(translation)) {
    if (namespace !== 'address' && value && typeof value === 'object') walk(value as Record<string, unknown>);
  }
}
