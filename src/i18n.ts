import fs from 'node:fs';
import path from 'node:path';
import i18next, { type i18n as I18n } from 'i18next';
import { LOCALES, type Locale } from './engine/types';
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
  for (const locale of LOCALES) {
    const translation: Record<string, unknown> = {};
    for (const localesDir of Array.isArray(localesDirs) ? localesDirs : [localesDirs]) {
      const dir = path.join(localesDir, locale);
      if (!fs.existsSync(dir)) throw new LocaleFileError(`Locale folder ${dir} is missing: every locale (${LOCALES.join(', ')}) needs one.`);
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
        const full = path.join(dir, file);
        try {
          translation[path.basename(file, '.json')] = JSON.parse(fs.readFileSync(full, 'utf8'));
        } catch (err) {
          throw new LocaleFileError(`${path.relative(process.cwd(), full)}: not valid JSON (${(err as Error).message})`);
        }
      }
    }
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
