import fs from 'node:fs';
import path from 'node:path';
import type { Translator } from '../../engine/contracts';
import type { Locale } from '../../engine/types';
import { createAsset, versionedName, type WebAsset } from './webAssets';

/** The page's own words (`locales/<lang>/web.json`): buttons, statuses, screen-reader labels. */
export const WEB_WORD_KEYS = [
  'title', 'menu', 'placeholder', 'answerLabel', 'send', 'start', 'sending', 'retrying', 'failed', 'tooMany', 'weak',
  'noLocation', 'locationDenied', 'you', 'bot', 'backToMenu', 'clear', 'clearConfirm', 'cleared',
  'photo', 'photoTooBig', 'photoBad', 'photoSent', 'noPush',
] as const;

export interface WebPage {
  /** `/` (no-cache, revalidated with its ETag). */
  html: WebAsset;
  /** Every other file, by the address it is served at: versioned (`/chat.<hash>.js`, cached a year) and plain. */
  files: Map<string, { asset: WebAsset; immutable: boolean }>;
}

/** The page's words in `locale`, each falling back to the default language's when a language lacks it. */
export function webWords(i18n: Translator, locale: Locale, fallback: Locale): Record<string, string> {
  return Object.fromEntries(WEB_WORD_KEYS.map((k) => [k, i18n.t(i18n.has(locale, `web.${k}`) ? locale : fallback, `web.${k}`)]));
}

/**
 * Builds the chat page once, at start-up: the script and style under content-hashed addresses, the page pointing at
 * them, in the default language (`<html lang>`, the words in the body's `data-page` attribute, which runs nothing), and the
 * words of every other language at a versioned address the page fetches when the person changes language.
 */
export function buildWebPage(publicDir: string, i18n: Translator, defaultLocale: Locale): WebPage {
  const files = new Map<string, { asset: WebAsset; immutable: boolean }>();
  const urls: Record<string, string> = {};
  for (const [file, type] of [['chat.js', 'text/javascript; charset=utf-8'], ['chat.css', 'text/css; charset=utf-8']] as const) {
    const asset = createAsset(type, fs.readFileSync(path.join(publicDir, file)));
    const versioned = `/${versionedName(file, asset)}`;
    files.set(versioned, { asset, immutable: true });
    files.set(`/${file}`, { asset, immutable: false });
    urls[`/${file}`] = versioned;
  }
  const wordFiles = new Map<Locale, string>();
  for (const locale of i18n.locales) {
    const asset = createAsset('application/json; charset=utf-8', JSON.stringify(webWords(i18n, locale, defaultLocale)));
    const url = `/chat-words/${locale}.${asset.hash}.json`;
    files.set(url, { asset, immutable: true });
    wordFiles.set(locale, url);
  }
  const words = webWords(i18n, defaultLocale, defaultLocale);
  const data = { lang: defaultLocale, words, wordFiles: Object.fromEntries(wordFiles) };
  const template = fs.readFileSync(path.join(publicDir, 'index.html'), 'utf8');
  const html = template
    .replace('<html lang="vi">', `<html lang="${escapeHtml(defaultLocale)}">`)
    .replace(/(href|src)="(\/chat\.(?:css|js))"/g, (_m, attr: string, url: string) => `${attr}="${urls[url] ?? url}"`)
    .replace(/<span data-w="(\w+)">[^<]*<\/span>/g, (m, key: string) => (key in words ? `<span data-w="${key}">${escapeHtml(words[key]!)}</span>` : m))
    // An attribute, not an inline script: the Content-Security-Policy (no inline script) holds.
    .replace('<body data-page="">', `<body data-page="${escapeHtml(JSON.stringify(data))}">`);
  return { html: createAsset('text/html; charset=utf-8', html), files };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
