import { z } from 'zod';
import { OperatorError } from '../errors';
import { normalizeText } from './normalize';
import { readLocaleFiles } from './locales';
import type { Locale } from './types';

/** Words every flow understands, whatever step the user is in. */
export type GlobalCommand =
  | { kind: 'menu' }
  | { kind: 'back' }
  | { kind: 'cancel' }
  | { kind: 'help' }
  | { kind: 'start' }
  | { kind: 'language'; to: Locale | null }
  /** Stop the announcements (in any state). */
  | { kind: 'unsubscribe' };

const phrases = z.array(z.string().min(1));

const wordsFileSchema = z
  .object({
    about: z.string().optional(),
    navigation: z
      .object({ menu: phrases, back: phrases, cancel: phrases, help: phrases, start: phrases, language: phrases })
      .strict(),
    languageNames: phrases,
    unsubscribe: phrases,
    yes: phrases,
    no: phrases,
    fillers: phrases,
    skip: phrases,
    done: phrases,
    confirm: phrases,
    edit: phrases,
    continue: phrases,
    restart: phrases,
    /** "Every one of them" where a list is asked for (all communes of an announcement). */
    all: phrases.optional(),
  })
  .strict();

export type WordsFile = z.infer<typeof wordsFileSchema>;

/** The words of every locale, merged (people mix languages), normalised (no diacritics, lower case). */
export interface WordLists {
  /** Whole messages that stand for a command. */
  commands: Map<string, GlobalCommand>;
  /**
   * Commands whose letters are also a yes/no word ("dừng" and "đúng" are both "dung" without diacritics): they count
   * only when typed with their diacritics (the lower-case forms allowed).
   */
  diacriticsOnly: Map<string, Set<string>>;
  yes: Set<string>;
  no: Set<string>;
  /** Words that carry no answer ("em bị sốt với ho" reads as "sốt ho"). */
  fillers: Set<string>;
  /** Skip an optional question (the no words count too). */
  skip: Set<string>;
  /** Finish choosing several answers. */
  done: Set<string>;
  /** Send a summary (the yes words count too). */
  confirm: Set<string>;
  /** Change an answer of a summary. */
  edit: Set<string>;
  /** Go on with an interrupted flow (the yes words count too), or start it again. */
  continue: Set<string>;
  restart: Set<string>;
  /** Every one of a list (all communes of an announcement). */
  all: Set<string>;
}

/** A words file that cannot be used; each problem names the file and the entry. */
export class WordsFileError extends OperatorError {
  constructor(readonly problems: string[]) {
    super(`Invalid words data (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** Reads `<localesDir>/<locale>/words.json` for every locale. */
export function loadWordLists(localesDir: string, displayRoot = process.cwd()): WordLists {
  const { files, problems } = readLocaleFiles(localesDir, 'words.json', wordsFileSchema, displayRoot);
  if (problems.length > 0) throw new WordsFileError(problems);
  return buildWordLists(Object.fromEntries(files.map((f) => [f.locale, f.data])));
}

/** Builds the lists from parsed files. A phrase listed for two commands keeps the first (navigation before unsubscribe). */
export function buildWordLists(files: Partial<Record<Locale, WordsFile>>): WordLists {
  const commands = new Map<string, GlobalCommand>();
  const add = (list: readonly string[], command: GlobalCommand) => {
    for (const p of list) {
      const key = p.startsWith('/') ? p.toLowerCase() : normalizeText(p);
      if (key && !commands.has(key)) commands.set(key, command);
    }
  };
  const yes = new Set<string>();
  const no = new Set<string>();
  const fillers = new Set<string>();
  const lists = { skip: new Set<string>(), done: new Set<string>(), confirm: new Set<string>(), edit: new Set<string>(), continue: new Set<string>(), restart: new Set<string>(), all: new Set<string>() };
  for (const [locale, file] of Object.entries(files) as Array<[Locale, WordsFile]>) {
    const n = file.navigation;
    add(n.menu, { kind: 'menu' });
    add(n.back, { kind: 'back' });
    add(n.cancel, { kind: 'cancel' });
    add(n.help, { kind: 'help' });
    add(n.start, { kind: 'start' });
    add(n.language, { kind: 'language', to: null });
    add(file.languageNames, { kind: 'language', to: locale });
    for (const w of file.yes) yes.add(normalizeText(w));
    for (const w of file.no) no.add(normalizeText(w));
    for (const w of file.fillers) fillers.add(normalizeText(w));
    for (const name of Object.keys(lists) as Array<keyof typeof lists>) for (const w of file[name] ?? []) lists[name].add(normalizeText(w));
  }
  for (const w of no) lists.skip.add(w);
  for (const w of yes) {
    lists.confirm.add(w);
    lists.continue.add(w);
  }
  for (const file of Object.values(files) as WordsFile[]) add(file.unsubscribe, { kind: 'unsubscribe' });
  const diacriticsOnly = new Map<string, Set<string>>();
  for (const file of Object.values(files) as WordsFile[]) {
    for (const p of [...Object.values(file.navigation).flat(), ...file.languageNames, ...file.unsubscribe]) {
      const key = normalizeText(p);
      if (!yes.has(key) && !no.has(key)) continue;
      const allowed = diacriticsOnly.get(key) ?? new Set<string>();
      allowed.add(p.normalize('NFC').toLowerCase());
      diacriticsOnly.set(key, allowed);
    }
  }
  return { commands, diacriticsOnly, yes, no, fillers, ...lists };
}

/**
 * The command a whole message stands for, or null. A phrase must be the entire message, so "huỷ" cancels but
 * "Hoàng Văn Huy" is still a name. `?` alone is help; Telegram's "/menu@SomeBot" in groups is "/menu".
 */
export function matchGlobalCommand(text: string, words: WordLists): GlobalCommand | null {
  const trimmed = text.trim();
  if (trimmed === '?') return { kind: 'help' };
  const withoutBotName = trimmed.replace(/^(\/[a-z_]+)@\w+$/i, '$1');
  const key = withoutBotName.startsWith('/') ? withoutBotName.toLowerCase() : normalizeText(withoutBotName);
  const allowed = words.diacriticsOnly.get(key);
  if (allowed && !allowed.has(withoutBotName.normalize('NFC').toLowerCase().replace(/[^\p{L}\p{N}/ ]+/gu, '').trim())) return null;
  return words.commands.get(key) ?? null;
}
