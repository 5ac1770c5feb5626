import { normalizeText } from './normalize';
import type { Locale } from './types';

/** Words every flow understands, whatever step the user is in. */
export type GlobalCommand =
  | { kind: 'menu' }
  | { kind: 'back' }
  | { kind: 'cancel' }
  | { kind: 'help' }
  | { kind: 'start' }
  | { kind: 'language'; to: Locale | null };

/**
 * Whole-message phrases, already normalised (no diacritics, lower case). A phrase must be the entire message, so
 * "huy" cancels but "Hoàng Văn Huy" is still a name.
 */
const PHRASES: Array<[string[], GlobalCommand]> = [
  [['menu', '/menu', 'main menu', 'trang chu', 'danh muc', 've menu', 'quay ve menu', 'menu chinh'], { kind: 'menu' }],
  [['back', '/back', 'quay lai', 'tro lai', 'lui lai', 'lui', 'go back'], { kind: 'back' }],
  [['cancel', '/cancel', 'huy', 'huy bo', 'thoi', 'dung lai', 'stop', 'thoat', 'exit'], { kind: 'cancel' }],
  [['help', '/help', 'tro giup', 'giup', 'giup do', 'huong dan', 'tro giup toi', '?'], { kind: 'help' }],
  [['/start', 'start', 'bat dau', 'bat dau lai'], { kind: 'start' }],
  [['language', '/language', 'ngon ngu', 'doi ngon ngu', 'chon ngon ngu', 'lang'], { kind: 'language', to: null }],
  [['english', 'tieng anh', '/en', 'in english'], { kind: 'language', to: 'en' }],
  [['tieng viet', 'vietnamese', '/vi', 'viet'], { kind: 'language', to: 'vi' }],
];

const LOOKUP = new Map<string, GlobalCommand>();
for (const [phrases, command] of PHRASES) for (const p of phrases) LOOKUP.set(p, command);

/** The global command a whole message stands for, or null. `?` alone counts as help. */
export function matchGlobalCommand(text: string): GlobalCommand | null {
  const trimmed = text.trim();
  if (trimmed === '?') return { kind: 'help' };
  // Telegram sends "/menu@SomeBot" in groups.
  const withoutBotName = trimmed.replace(/^(\/[a-z_]+)@\w+$/i, '$1');
  const key = withoutBotName.startsWith('/') ? withoutBotName.toLowerCase() : normalizeText(withoutBotName);
  return LOOKUP.get(key) ?? null;
}

const GREETINGS = new Set(['xin chao', 'chao', 'chao ban', 'chao bot', 'hello', 'hi', 'hey', 'alo', 'a lo', 'chao em', 'chao anh', 'chao chi']);

/** True for a bare greeting ("Xin chào", "hi"), which shows the menu. */
export function isGreeting(text: string): boolean {
  return GREETINGS.has(normalizeText(text));
}
