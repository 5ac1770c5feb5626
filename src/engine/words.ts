import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { OperatorError } from '../errors';
import { normalizeText } from './normalize';
import { LOCALES } from './types';

/**
 * The words the engine understands in every flow, per language, in `locales/<lang>/words.json`: navigation (menu,
 * back, cancel, help, start, language), greetings, and the answers to its own questions (skip, done, continue or
 * restart, confirm or edit). A new language is a folder, not a code change.
 */
export const WORD_LISTS = ['menu', 'back', 'cancel', 'help', 'start', 'language', 'english', 'vietnamese', 'greeting', 'skip', 'done', 'continue', 'restart', 'confirm', 'edit'] as const;
export type WordList = (typeof WORD_LISTS)[number];

/** Every list, normalised (no diacritics, lower case), the languages together: people mix them. */
export type EngineWords = Record<WordList, ReadonlySet<string>>;

const wordsFileSchema = z.object(Object.fromEntries(WORD_LISTS.map((k) => [k, z.array(z.string().min(1))])) as Record<WordList, z.ZodArray<z.ZodString>>).strict();

/** A words file is missing or malformed; the message names the file and the list. */
export class WordsFileError extends OperatorError {}

/** Builds the engine's word lists from the lists of each language. */
export function buildEngineWords(files: ReadonlyArray<Record<WordList, readonly string[]>>): EngineWords {
  return Object.fromEntries(WORD_LISTS.map((k) => [k, new Set(files.flatMap((f) => f[k].map((w) => normalizeText(w))))])) as unknown as EngineWords;
}

/** Reads `<localesDir>/<locale>/words.json` for every locale. */
export function loadEngineWords(localesDir: string, displayRoot = process.cwd()): EngineWords {
  const files = LOCALES.map((locale) => {
    const file = path.join(localesDir, locale, 'words.json');
    const shown = path.relative(displayRoot, file) || file;
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new WordsFileError(`${shown}: cannot read the engine's words (${(err as Error).message}). Every locale needs this file, with the lists ${WORD_LISTS.join(', ')}.`);
    }
    const parsed = wordsFileSchema.safeParse(raw);
    if (!parsed.success) throw new WordsFileError(`${shown}: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'file'}: ${i.message}`).join('; ')}`);
    return parsed.data;
  });
  return buildEngineWords(files);
}
