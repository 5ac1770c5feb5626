import { normalizeText } from './normalize';
import type { Locale } from './types';
import type { EngineWords, WordList } from './words';

/** Words every flow understands, whatever step the user is in. */
export type GlobalCommand =
  | { kind: 'menu' }
  | { kind: 'back' }
  | { kind: 'cancel' }
  | { kind: 'help' }
  | { kind: 'start' }
  | { kind: 'language'; to: Locale | null };

/** Slash commands: names of commands, the same in every language (Telegram's command menu). */
const SLASH_COMMANDS: Record<string, GlobalCommand> = {
  '/menu': { kind: 'menu' },
  '/back': { kind: 'back' },
  '/cancel': { kind: 'cancel' },
  '/help': { kind: 'help' },
  '/start': { kind: 'start' },
  '/language': { kind: 'language', to: null },
  '/en': { kind: 'language', to: 'en' },
  '/vi': { kind: 'language', to: 'vi' },
};

/** Which word list stands for which command. */
const COMMAND_LISTS: Array<[WordList, GlobalCommand]> = [
  ['menu', { kind: 'menu' }],
  ['back', { kind: 'back' }],
  ['cancel', { kind: 'cancel' }],
  ['help', { kind: 'help' }],
  ['start', { kind: 'start' }],
  ['language', { kind: 'language', to: null }],
  ['english', { kind: 'language', to: 'en' }],
  ['vietnamese', { kind: 'language', to: 'vi' }],
];

/**
 * The global command a whole message stands for, or null: a slash command, or a phrase of `locales/<lang>/words.json`
 * that is the entire message, so "huy" cancels but "Hoàng Văn Huy" is still a name. `?` alone counts as help.
 */
export function matchGlobalCommand(text: string, words: EngineWords): GlobalCommand | null {
  const trimmed = text.trim();
  if (trimmed === '?') return { kind: 'help' };
  // Telegram sends "/menu@SomeBot" in groups.
  const withoutBotName = trimmed.replace(/^(\/[a-z_]+)@\w+$/i, '$1');
  if (withoutBotName.startsWith('/')) return SLASH_COMMANDS[withoutBotName.toLowerCase()] ?? null;
  const key = normalizeText(withoutBotName);
  for (const [list, command] of COMMAND_LISTS) if (words[list].has(key)) return command;
  return null;
}

/** True for a bare greeting ("Xin chào", "hi"), which shows the menu. */
export function isGreeting(text: string, words: EngineWords): boolean {
  return words.greeting.has(normalizeText(text));
}
