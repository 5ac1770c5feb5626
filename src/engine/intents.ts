import { z } from 'zod';
import { normalizeText } from './normalize';
import { readLocaleFiles } from './locales';
import { OperatorError } from '../errors';

/**
 * The data for understanding a typed message that answers no question, per locale in `locales/<lang>/intents.json`:
 * abbreviations (`ko` → `khong`), greeting and thanks words, the danger signs and symptoms that take priority, cues,
 * and per target the phrases people use for it. A target is a flow id, or `<flow>__<step>` to start a flow at a step
 * (like a deep link), so "trạm y tế ở đâu" opens the health-station answer directly. Matching ignores case and
 * diacritics. The matcher itself (a trained classifier plus these data) is `CitizenIntentMatcher` in intentMatcher.ts.
 */

export type IntentMatch =
  /** Asks for nothing the bot offers (out of scope), or too little to tell. */
  | { kind: 'none' }
  /** Only greeting words ("chào bạn", "hello"). */
  | { kind: 'greeting' }
  /** Only thanks or acknowledgement ("cảm ơn ad", "ok"). */
  | { kind: 'thanks' }
  /** Asks for the main menu in its own words ("cho xem các mục"). */
  | { kind: 'menu' }
  /** A danger sign (khó thở, đau ngực, tím tái, lơ mơ, ...): tell the person to call 115 at once, then start `target`. */
  | { kind: 'emergency'; target: string }
  /** `target` is a flow id or `<flow>__<step>`. */
  | { kind: 'sure'; target: string }
  /** The two best guesses (targets of two different flows), best first. */
  | { kind: 'unsure'; targets: [string, string] };

export interface IntentMatcher {
  match(text: string): IntentMatch;
  /** True when the message asks, in the person's own words, to stop the announcements (acted on in any state). */
  unsubscribes?(text: string): boolean;
}

const lexiconFileSchema = z
  .object({
    /** Short forms people type, whole words only: `"ko": "khong"`. Keys and values are normalised on load. */
    abbreviations: z.record(z.string().min(1), z.string().min(1)),
    /** Words that only greet. */
    greetings: z.array(z.string().min(1)),
    /** Words that only thank or acknowledge ("cảm ơn", "ok"). */
    thanks: z.array(z.string().min(1)).default([]),
    /** Danger signs: a message naming one (not negated) gets "call 115" before any question. */
    dangerSigns: z.array(z.string().min(1)).default([]),
    /** Symptoms: a message naming one (not negated) of a person ("tôi", "con", "bị", ...) goes to the symptoms flow. */
    symptoms: z.array(z.string().min(1)).default([]),
    /** Phrases that contain a symptom's letters but mean something else ("hồ sơ", "hộ khẩu", "cảm ơn"). */
    notSymptoms: z.array(z.string().min(1)).default([]),
    /**
     * Phrases that name messages without asking to stop them ("không nhận được", "why"): a complaint that the
     * announcements do not arrive must never unsubscribe.
     */
    notUnsubscribe: z.array(z.string().min(1)).default([]),
    /** Words that negate the symptom right after them ("không sốt", "hết ho"). */
    negations: z.array(z.string().min(1)).default([]),
    /** Words that say whose symptom it is ("tôi", "con", "vợ", "bị"). */
    people: z.array(z.string().min(1)).default([]),
    /**
     * Evidence for a label beyond the trained classifier: when the message contains a phrase of every group in `all`,
     * `boost` is added to the label's log-score.
     */
    cues: z.array(z.object({ label: z.string().min(1), boost: z.number().positive(), all: z.array(z.array(z.string().min(1)).min(1)).min(1) }).strict()).default([]),
    /** Where a classifier label that is not a flow id leads: `"unsubscribe": "subscriptions"`. */
    labelTargets: z.record(z.string(), z.string()).default({}),
    /** Per target (a flow id, or `<flow>__<step>`), the phrases (one or more words) that ask for it. */
    flows: z.record(z.string(), z.array(z.string().min(1)).min(1)),
  })
  .strict();

/** The parsed content of one `locales/<lang>/intents.json`. */
export type IntentLexiconFile = z.infer<typeof lexiconFileSchema>;

/** An intents file that cannot be used; each problem names the file and the entry. */
export class IntentFileError extends OperatorError {
  constructor(readonly problems: string[]) {
    super(`Invalid intent data (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export interface Phrase {
  words: string[];
  /** The words run together, for "caidat" typed for "cai dat". */
  joined: string;
}

export interface IntentLexicon {
  abbreviations: Map<string, string[]>;
  greetings: Set<string>;
  thanks: Set<string>;
  intents: Array<{ target: string; phrases: Phrase[] }>;
  dangerSigns: PhraseSet;
  symptoms: PhraseSet;
  notSymptoms: PhraseSet;
  notUnsubscribe: PhraseSet;
  negations: PhraseSet;
  people: PhraseSet;
  cues: Array<{ label: string; boost: number; all: PhraseSet[] }>;
  labelTargets: Map<string, string>;
}

/** Phrases indexed by their first word, for finding them in a message. */
export class PhraseSet {
  private readonly byFirst = new Map<string, string[][]>();

  constructor(phrases: Iterable<string[]>) {
    for (const words of phrases) {
      if (words.length === 0) continue;
      const list = this.byFirst.get(words[0]!) ?? [];
      list.push(words);
      this.byFirst.set(words[0]!, list);
    }
  }

  /** Calls `found` with every occurrence in `words`, as [start, end) word positions (a plain loop: this runs per message). */
  forEach(words: readonly string[], found: (start: number, end: number) => void): void {
    for (let i = 0; i < words.length; i++) {
      const candidates = this.byFirst.get(words[i]!);
      if (!candidates) continue;
      for (const phrase of candidates) {
        if (i + phrase.length > words.length) continue;
        let j = 1;
        while (j < phrase.length && words[i + j] === phrase[j]) j++;
        if (j === phrase.length) found(i, i + phrase.length);
      }
    }
  }

  has(words: readonly string[]): boolean {
    for (let i = 0; i < words.length; i++) {
      const candidates = this.byFirst.get(words[i]!);
      if (!candidates) continue;
      for (const phrase of candidates) {
        let j = 1;
        while (j < phrase.length && words[i + j] === phrase[j]) j++;
        if (j === phrase.length) return true;
      }
    }
    return false;
  }
}

/**
 * Reads `<localesDir>/<locale>/intents.json` for every locale and checks that every target it names exists
 * (`targets`: the flow ids, and `<flow>__<step>` for the steps a flow may be started at).
 */
export function loadIntentLexicon(localesDir: string, targets: readonly string[], displayRoot = process.cwd()): IntentLexicon {
  const read = readLocaleFiles(localesDir, 'intents.json', lexiconFileSchema, displayRoot);
  const problems = read.problems;
  const files: IntentLexiconFile[] = [];
  for (const { shown, data } of read.files) {
    const flowIds = targets.filter((t) => !t.includes('__'));
    for (const [label, target] of Object.entries(data.labelTargets)) {
      if (!targets.includes(target)) problems.push(`${shown}: labelTargets.${label}: unknown flow or step '${target}'`);
    }
    for (const target of Object.keys(data.flows)) {
      if (targets.includes(target)) continue;
      const [flow, step] = target.split('__');
      problems.push(
        step !== undefined && flowIds.includes(flow!)
          ? `${shown}: flows.${target}: flow '${flow}' has no entry step '${step}' (a typed request may open only the flow's start or a step listed in its "entries")`
          : `${shown}: flows.${target}: unknown flow '${flow}' (flows are: ${flowIds.join(', ')})`,
      );
    }
    files.push(data);
  }
  if (problems.length > 0) throw new IntentFileError(problems);
  return buildLexicon(files);
}

/** Builds the lexicon from already-parsed data (all locales merged: people mix languages). */
export function buildLexicon(files: ReadonlyArray<IntentLexiconFile>): IntentLexicon {
  const abbreviations = new Map<string, string[]>();
  const greetings = new Set<string>();
  const thanks = new Set<string>();
  const byTarget = new Map<string, Phrase[]>();
  for (const file of files) {
    for (const [short, long] of Object.entries(file.abbreviations)) abbreviations.set(normalizeText(short), normalizeText(long).split(' '));
    for (const g of file.greetings) for (const w of normalizeText(g).split(' ')) if (w) greetings.add(w);
  }
  for (const file of files) for (const t of file.thanks) thanks.add(expandWords(normalizeText(t), abbreviations).join(' '));
  const phrases = (pick: (f: IntentLexiconFile) => string[]) =>
    new PhraseSet(files.flatMap((f) => pick(f).map((p) => expandWords(normalizeText(p), abbreviations))));
  const cues = files.flatMap((f) =>
    f.cues.map((c) => ({ label: c.label, boost: c.boost, all: c.all.map((group) => new PhraseSet(group.map((p) => expandWords(normalizeText(p), abbreviations)))) })),
  );
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
  return {
    abbreviations,
    greetings,
    thanks,
    intents: [...byTarget].map(([target, list]) => ({ target, phrases: list })),
    dangerSigns: phrases((f) => f.dangerSigns),
    symptoms: phrases((f) => f.symptoms),
    notSymptoms: phrases((f) => f.notSymptoms),
    notUnsubscribe: phrases((f) => f.notUnsubscribe),
    negations: phrases((f) => f.negations),
    people: phrases((f) => f.people),
    cues,
    labelTargets: new Map(files.flatMap((f) => Object.entries(f.labelTargets))),
  };
}

/** A message's words as the matcher reads them: normalised (no diacritics, lower case), abbreviations expanded. */
export function intentWords(text: string, lexicon: Pick<IntentLexicon, 'abbreviations'>): string[] {
  return expandWords(normalizeText(text), lexicon.abbreviations);
}

function expandWords(normalized: string, abbreviations: Map<string, string[]>): string[] {
  if (normalized === '') return [];
  return normalized.split(' ').flatMap((w) => abbreviations.get(w) ?? [w]);
}

/** The flow of a target (`epidemic__stationLoad` → `epidemic`). */
export function flowOf(target: string): string {
  return target.split('__')[0]!;
}
