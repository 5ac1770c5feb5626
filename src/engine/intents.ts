import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { wordSimilarity } from './fuzzy';
import { normalizeText } from './normalize';
import { LOCALES } from './types';

/**
 * Understanding a typed message that answers no question: which flow does the person want? Data-driven: each
 * locale's `locales/<lang>/intents.json` lists abbreviations (`ko` → `khong`), greetings and, per flow, the phrases
 * people use for it. Matching ignores case and diacritics, expands abbreviations, tolerates one typo in longer words
 * and words run together ("caidat"); when two flows score alike, both are offered as guesses.
 */

export type IntentMatch =
  | { kind: 'none' }
  /** Only greeting words ("chào bạn", "hello"). */
  | { kind: 'greeting' }
  | { kind: 'sure'; flow: string }
  /** The two best guesses, best first. */
  | { kind: 'unsure'; flows: [string, string] };

export interface IntentMatcher {
  match(text: string): IntentMatch;
}

const lexiconFileSchema = z
  .object({
    /** Short forms people type, whole words only: `"ko": "khong"`. Keys and values are normalised on load. */
    abbreviations: z.record(z.string().min(1), z.string().min(1)),
    /** Words that only greet. */
    greetings: z.array(z.string().min(1)),
    /** Per flow id, the phrases (one or more words) that ask for it. */
    flows: z.record(z.string(), z.array(z.string().min(1)).min(1)),
  })
  .strict();

/** An intents file that cannot be used; each problem names the file and the entry. */
export class IntentFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid intent data (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'IntentFileError';
  }
}

interface Phrase {
  words: string[];
  /** The words run together, for "caidat" typed for "cai dat". */
  joined: string;
}

export interface IntentLexicon {
  abbreviations: Map<string, string[]>;
  greetings: Set<string>;
  intents: Array<{ flow: string; phrases: Phrase[] }>;
}

/** Reads `<localesDir>/<locale>/intents.json` for every locale and checks that every flow it names exists. */
export function loadIntentLexicon(localesDir: string, flowIds: readonly string[], displayRoot = process.cwd()): IntentLexicon {
  const problems: string[] = [];
  const files: Array<z.infer<typeof lexiconFileSchema>> = [];
  for (const locale of LOCALES) {
    const full = path.join(localesDir, locale, 'intents.json');
    const shown = path.relative(displayRoot, full) || full;
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(full, 'utf8'));
    } catch (err) {
      problems.push(`${shown}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(err as Error).message})`}`);
      continue;
    }
    const parsed = lexiconFileSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${shown}: ${issue.path.map(String).join('.') || '(file)'}: ${issue.message}`);
      continue;
    }
    for (const flow of Object.keys(parsed.data.flows)) {
      if (!flowIds.includes(flow)) problems.push(`${shown}: flows.${flow}: unknown flow '${flow}' (flows are: ${flowIds.join(', ')})`);
    }
    files.push(parsed.data);
  }
  if (problems.length > 0) throw new IntentFileError(problems);
  return buildLexicon(files);
}

/** Builds the lexicon from already-parsed data (all locales merged: people mix languages). */
export function buildLexicon(files: ReadonlyArray<z.infer<typeof lexiconFileSchema>>): IntentLexicon {
  const abbreviations = new Map<string, string[]>();
  const greetings = new Set<string>();
  const byFlow = new Map<string, Phrase[]>();
  for (const file of files) {
    for (const [short, long] of Object.entries(file.abbreviations)) abbreviations.set(normalizeText(short), normalizeText(long).split(' '));
    for (const g of file.greetings) for (const w of normalizeText(g).split(' ')) if (w) greetings.add(w);
  }
  for (const file of files) {
    for (const [flow, phrases] of Object.entries(file.flows)) {
      const list = byFlow.get(flow) ?? [];
      for (const p of phrases) {
        const words = expandWords(normalizeText(p), abbreviations);
        if (words.length > 0) list.push({ words, joined: words.join('') });
      }
      byFlow.set(flow, list);
    }
  }
  return { abbreviations, greetings, intents: [...byFlow].map(([flow, phrases]) => ({ flow, phrases })) };
}

function expandWords(normalized: string, abbreviations: Map<string, string[]>): string[] {
  if (normalized === '') return [];
  return normalized.split(' ').flatMap((w) => abbreviations.get(w) ?? [w]);
}

/** Messages longer than this are not guessed at: a wall of text is not a menu choice. */
const MAX_WORDS = 60;
/** A flow needs at least this score (one word matched exactly). */
const MIN_SCORE = 1;
/** Two flows closer than this are both offered. */
const SURE_MARGIN = 0.75;

export class LexiconIntentMatcher implements IntentMatcher {
  constructor(private readonly lexicon: IntentLexicon) {}

  match(text: string): IntentMatch {
    const words = expandWords(normalizeText(text), this.lexicon.abbreviations);
    if (words.length === 0 || words.length > MAX_WORDS) return { kind: 'none' };
    const scored = this.lexicon.intents
      .map(({ flow, phrases }) => ({ flow, score: scoreIntent(words, phrases) }))
      .filter((x) => x.score >= MIN_SCORE)
      .sort((a, b) => b.score - a.score);
    const [best, second] = scored;
    if (!best) return words.every((w) => this.lexicon.greetings.has(w)) ? { kind: 'greeting' } : { kind: 'none' };
    if (second && best.score - second.score < SURE_MARGIN) return { kind: 'unsure', flows: [best.flow, second.flow] };
    return { kind: 'sure', flow: best.flow };
  }
}

/** The best phrase's score (its length in words, less a little per typo), plus a little for each other phrase found. */
function scoreIntent(words: string[], phrases: Phrase[]): number {
  const found = phrases.map((p) => scorePhrase(words, p)).filter((x) => x > 0).sort((a, b) => b - a);
  if (found.length === 0) return 0;
  return found[0]! + 0.25 * Math.min(found.length - 1, 2);
}

function scorePhrase(words: string[], phrase: Phrase): number {
  let best = 0;
  const n = phrase.words.length;
  for (let i = 0; i + n <= words.length; i++) {
    let total = 0;
    for (let j = 0; j < n; j++) {
      const sim = wordSimilarity(words[i + j]!, phrase.words[j]!);
      if (sim === 0) {
        total = 0;
        break;
      }
      total += sim === 1 ? 1 : 0.6;
    }
    best = Math.max(best, total);
  }
  if (n > 1) {
    // Words run together: "caidat", "khaisinh".
    for (const w of words) {
      const sim = wordSimilarity(w, phrase.joined);
      if (sim > 0) best = Math.max(best, n * (sim === 1 ? 1 : 0.8));
    }
  } else {
    // One word typed as two: "hot line", "blue tooth".
    for (let i = 0; i + 1 < words.length; i++) {
      if (wordSimilarity(words[i]! + words[i + 1]!, phrase.words[0]!) > 0) best = Math.max(best, 1);
    }
  }
  return best;
}
