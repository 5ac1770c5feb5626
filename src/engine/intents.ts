import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { wordSimilarity } from './fuzzy';
import { normalizeText } from './normalize';
import { LOCALES } from './types';
import { OperatorError } from '../errors';

/**
 * Understanding a typed message that answers no question: which flow does the person want? Data-driven: each
 * locale's `locales/<lang>/intents.json` lists abbreviations (`ko` → `khong`), greetings and, per target, the phrases
 * people use for it. A target is a flow id, or `<flow>__<step>` to start a flow at a step (like a deep link), so
 * "trạm y tế ở đâu" opens the health-station answer directly. Matching ignores case and diacritics, expands abbreviations, tolerates one typo in longer words
 * and words run together ("caidat"); when two flows score alike, both are offered as guesses.
 */

export type IntentMatch =
  | { kind: 'none' }
  /** Only greeting words ("chào bạn", "hello"). */
  | { kind: 'greeting' }
  /** `target` is a flow id or `<flow>__<step>`. */
  | { kind: 'sure'; target: string }
  /** The two best guesses (targets of two different flows), best first. */
  | { kind: 'unsure'; targets: [string, string] };

export interface IntentMatcher {
  match(text: string): IntentMatch;
}

const lexiconFileSchema = z
  .object({
    /** Short forms people type, whole words only: `"ko": "khong"`. Keys and values are normalised on load. */
    abbreviations: z.record(z.string().min(1), z.string().min(1)),
    /** Words that only greet. */
    greetings: z.array(z.string().min(1)),
    /** Per target (a flow id, or `<flow>__<step>`), the phrases (one or more words) that ask for it. */
    flows: z.record(z.string(), z.array(z.string().min(1)).min(1)),
  })
  .strict();

/** An intents file that cannot be used; each problem names the file and the entry. */
export class IntentFileError extends OperatorError {
  constructor(readonly problems: string[]) {
    super(`Invalid intent data (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
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
  intents: Array<{ target: string; phrases: Phrase[] }>;
}

/**
 * Reads `<localesDir>/<locale>/intents.json` for every locale and checks that every target it names exists
 * (`targets`: the flow ids, and `<flow>__<step>` for the steps a flow may be started at).
 */
export function loadIntentLexicon(localesDir: string, targets: readonly string[], displayRoot = process.cwd()): IntentLexicon {
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
    const flowIds = targets.filter((t) => !t.includes('__'));
    for (const target of Object.keys(parsed.data.flows)) {
      if (targets.includes(target)) continue;
      const [flow, step] = target.split('__');
      problems.push(
        step !== undefined && flowIds.includes(flow!)
          ? `${shown}: flows.${target}: flow '${flow}' has no step '${step}'`
          : `${shown}: flows.${target}: unknown flow '${flow}' (flows are: ${flowIds.join(', ')})`,
      );
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
  const byTarget = new Map<string, Phrase[]>();
  for (const file of files) {
    for (const [short, long] of Object.entries(file.abbreviations)) abbreviations.set(normalizeText(short), normalizeText(long).split(' '));
    for (const g of file.greetings) for (const w of normalizeText(g).split(' ')) if (w) greetings.add(w);
  }
  for (const file of files) {
    for (const [target, phrases] of Object.entries(file.flows)) {
      const list = byTarget.get(target) ?? [];
      for (const p of phrases) {
        const words = expandWords(normalizeText(p), abbreviations);
        if (words.length > 0) list.push({ words, joined: words.join('') });
      }
      byTarget.set(target, list);
    }
  }
  return { abbreviations, greetings, intents: [...byTarget].map(([target, phrases]) => ({ target, phrases })) };
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
      .map(({ target, phrases }) => ({ target, flow: flowOf(target), score: scoreIntent(words, phrases) }))
      .filter((x) => x.score >= MIN_SCORE)
      .sort((a, b) => b.score - a.score);
    const best = scored[0];
    if (!best) return words.every((w) => this.lexicon.greetings.has(w)) ? { kind: 'greeting' } : { kind: 'none' };
    const close = scored.filter((x) => best.score - x.score < SURE_MARGIN);
    const otherFlow = close.find((x) => x.flow !== best.flow);
    if (otherFlow) return { kind: 'unsure', targets: [best.target, otherFlow.target] };
    // Close scores within one flow: its one step named (more specific than the flow), else the flow from its start.
    const steps = [...new Set(close.map((x) => x.target).filter((t) => t !== best.flow))];
    return { kind: 'sure', target: steps.length === 1 ? steps[0]! : best.flow };
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
      // More than one word, less than two: "bluezone" typed for "blue zone" is one word, "khaisinh" beats "sinh".
      if (sim > 0) best = Math.max(best, sim === 1 ? 1.5 : 1.2);
    }
  } else {
    // One word typed as two: "hot line", "blue tooth".
    for (let i = 0; i + 1 < words.length; i++) {
      if (wordSimilarity(words[i]! + words[i + 1]!, phrase.words[0]!) > 0) best = Math.max(best, 1);
    }
  }
  return best;
}

/** The flow of a target (`epidemic__stationLoad` → `epidemic`). */
export function flowOf(target: string): string {
  return target.split('__')[0]!;
}
