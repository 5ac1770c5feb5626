import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { OperatorError } from '../errors';
import { IntentClassifier, type ClassifierOptions } from './intentClassifier';
import { flowOf, intentWords, loadIntentLexicon, type IntentLexicon, type IntentMatch, type IntentMatcher, type PhraseSet } from './intents';
import { discoverLocales } from './locales';
import { REQUIRED_LOCALES } from './types';
import { loadWordLists, type WordLists } from './words';

/**
 * Understanding a typed message that answers no question, in order of what a mistake costs:
 *
 * 1. a danger sign (khó thở, đau ngực, tím tái, lơ mơ, ...) not negated → `emergency` ("call 115", then symptoms);
 * 2. a symptom (sốt, ho, mất vị giác, ...) not negated, of a person ("tôi", "con", "bị", ...) or in a short message →
 *    the symptoms flow;
 * 3. only greeting words → `greeting`; only thanks → `thanks`; the whole message is one phrase of the lexicon → its target;
 * 4. otherwise the trained classifier (`IntentClassifier`), with the lexicon's phrases and the `cues` of
 *    `locales/<lang>/intents.json` added as evidence; its label `none` or a low probability → out of scope (`none`);
 *    two flows close together → both offered (`unsure`).
 *
 * Within the chosen flow, the lexicon's `<flow>__<step>` phrases pick the step ("trạm y tế ở đâu" → the station).
 */

/** Labels that are not flows. */
const SPECIAL_LABELS = new Set(['none', 'greeting', 'thanks', 'menu', 'emergency']);

/** Messages longer than this (in words) are not guessed at: a wall of text is not a request the bot can serve. */
const MAX_WORDS = 120;
/** Symptom words in a message this short need no person ("sốt ho", "bị sốt"). */
const SHORT_MESSAGE_WORDS = 4;
/** How many words before a symptom a negation still applies to ("không bị sốt", "ko thấy ho"). */
const NEGATION_REACH = 2;

export interface IntentMatcherTuning {
  /** Below this probability the best label is not trusted: the message is out of scope. */
  outOfScopeBelow: number;
  /** A second flow at least this fraction of the best one's probability is offered too. */
  unsureRatio: number;
  /** Weight of the lexicon's phrase score, added to a label's log-score. */
  lexiconWeight: number;
}

export const DEFAULT_TUNING: IntentMatcherTuning = { outOfScopeBelow: 0.3, unsureRatio: 0.6, lexiconWeight: 0.6 };

/** Why a message was understood as it was: for tests, the benchmark and `npm test`'s list of misses. */
export interface IntentExplanation {
  match: IntentMatch;
  /** The label decided (a classifier label, or the rule's). */
  label: string;
  /** What decided it. */
  by: 'empty' | 'danger-sign' | 'symptom' | 'greeting' | 'thanks' | 'lexicon' | 'classifier';
  probability?: number;
}

export interface IntentExample {
  text: string;
  intent: string;
}

const examplesFileSchema = z
  .object({
    about: z.string().optional(),
    examples: z.array(z.object({ text: z.string().min(1), intent: z.string().min(1), split: z.literal('tune') }).strict()),
  })
  .strict();

/** An examples file that cannot be used; each problem names the file and the entry. */
export class IntentExamplesError extends OperatorError {
  constructor(readonly problems: string[]) {
    super(`Invalid intent examples (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/**
 * Reads `<localesDir>/<locale>/intent-examples.json` for every locale: the labelled messages the classifier learns
 * from. Each intent must be a flow id, a label of `labelTargets`, or one of none/greeting/thanks/menu/emergency.
 */
export function loadIntentExamples(localesDir: string, lexicon: IntentLexicon, flowIds: readonly string[], displayRoot = process.cwd()): IntentExample[] {
  const problems: string[] = [];
  const examples: IntentExample[] = [];
  const known = new Set([...flowIds, ...lexicon.labelTargets.keys(), ...SPECIAL_LABELS]);
  for (const locale of discoverLocales(localesDir)) {
    const full = path.join(localesDir, locale, 'intent-examples.json');
    const shown = path.relative(displayRoot, full) || full;
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(full, 'utf8'));
    } catch (err) {
      // A language added as a folder may come without examples: the classifier learns from the others.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !REQUIRED_LOCALES.includes(locale)) continue;
      problems.push(`${shown}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(err as Error).message})`}`);
      continue;
    }
    const parsed = examplesFileSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${shown}: ${issue.path.map(String).join('.') || '(file)'}: ${issue.message}`);
      continue;
    }
    parsed.data.examples.forEach((e, i) => {
      if (!known.has(e.intent)) problems.push(`${shown}: examples.${i}: unknown intent '${e.intent}' (${JSON.stringify(e.text)})`);
      else examples.push({ text: e.text, intent: e.intent });
    });
  }
  if (problems.length > 0) throw new IntentExamplesError(problems);
  return examples;
}

/**
 * The lexicon's phrases, for scoring every target in one pass over a message (exact words; typos are the classifier's
 * job): a target scores its longest phrase found (in words; 1.5 for a phrase typed run together, "caidat"), plus a
 * quarter for each other phrase found (at most two).
 */
class LexiconIndex {
  private readonly byFirst = new Map<string, Array<{ words: string[]; target: string }>>();
  private readonly joined = new Map<string, string[]>();

  constructor(intents: IntentLexicon['intents']) {
    for (const { target, phrases } of intents) {
      for (const p of phrases) {
        const list = this.byFirst.get(p.words[0]!) ?? [];
        list.push({ words: p.words, target });
        this.byFirst.set(p.words[0]!, list);
        if (p.words.length > 1) this.joined.set(p.joined, [...(this.joined.get(p.joined) ?? []), target]);
      }
    }
  }

  score(words: readonly string[]): Map<string, number> {
    const found = new Map<string, { best: number; count: number }>();
    const note = (target: string, score: number) => {
      const f = found.get(target);
      if (!f) found.set(target, { best: score, count: 1 });
      else {
        f.best = Math.max(f.best, score);
        f.count++;
      }
    };
    for (let i = 0; i < words.length; i++) {
      for (const p of this.byFirst.get(words[i]!) ?? []) {
        let j = 1;
        while (j < p.words.length && words[i + j] === p.words[j]) j++;
        if (j === p.words.length) note(p.target, p.words.length);
      }
      for (const target of this.joined.get(words[i]!) ?? []) note(target, 1.5);
    }
    const scores = new Map<string, number>();
    for (const [target, f] of found) scores.set(target, f.best + 0.25 * Math.min(f.count - 1, 2));
    return scores;
  }
}

export class CitizenIntentMatcher implements IntentMatcher {
  /** The label that leads to each flow, when only one does (not subscriptions: subscribe and unsubscribe). */
  private readonly labelOfFlow: Map<string, string>;
  private readonly lexiconIndex: LexiconIndex;
  private readonly exactPhrases: Map<string, string>;
  /** Every word of a thanks phrase, to rule most messages out of `onlyThanks` at once. */
  private readonly thanksWords: Set<string>;
  private readonly labelIndex: Map<string, number>;
  private readonly scratch: Float64Array;

  constructor(
    private readonly lexicon: IntentLexicon,
    readonly classifier: IntentClassifier,
    private readonly tuning: IntentMatcherTuning = DEFAULT_TUNING,
  ) {
    this.labelIndex = new Map(classifier.labels.map((l, i) => [l, i]));
    this.scratch = new Float64Array(classifier.labels.length);
    // A flow's phrases count for the label leading to that flow, when only one label does (not subscribe/unsubscribe).
    const labelsOfFlow = new Map<string, string[]>();
    for (const label of classifier.labels) {
      if (SPECIAL_LABELS.has(label)) continue;
      const flow = flowOf(this.targetOf(label));
      labelsOfFlow.set(flow, [...(labelsOfFlow.get(flow) ?? []), label]);
    }
    this.labelOfFlow = new Map([...labelsOfFlow].filter(([, labels]) => labels.length === 1).map(([flow, labels]) => [flow, labels[0]!]));
    this.lexiconIndex = new LexiconIndex(lexicon.intents);
    this.thanksWords = new Set([...lexicon.thanks].flatMap((t) => t.split(' ')));
    this.exactPhrases = new Map();
    for (const { target, phrases } of lexicon.intents) {
      for (const p of phrases) if (!this.exactPhrases.has(p.words.join(' '))) this.exactPhrases.set(p.words.join(' '), target);
    }
  }

  /** Trains the classifier on the examples (all locales) and builds the matcher. */
  static train(lexicon: IntentLexicon, examples: readonly IntentExample[], options?: ClassifierOptions, tuning?: IntentMatcherTuning): CitizenIntentMatcher {
    const classifier = IntentClassifier.train(
      examples.map((e) => ({ words: intentWords(e.text, lexicon), label: e.intent })),
      options,
    );
    return new CitizenIntentMatcher(lexicon, classifier, tuning);
  }

  match(text: string): IntentMatch {
    return this.explain(text).match;
  }

  explain(text: string): IntentExplanation {
    const words = intentWords(text, this.lexicon);
    if (words.length === 0 || words.length > MAX_WORDS) return { match: { kind: 'none' }, label: 'none', by: 'empty' };

    const notSymptom = coveredPositions(words, this.lexicon.notSymptoms);
    const negated = coveredPositions(words, this.lexicon.negations);
    if (this.mentions(words, this.lexicon.dangerSigns, notSymptom, negated)) {
      return { match: { kind: 'emergency', target: this.targetOf('emergency') }, label: 'emergency', by: 'danger-sign' };
    }
    if (this.mentions(words, this.lexicon.symptoms, notSymptom, negated) && (words.length <= SHORT_MESSAGE_WORDS || this.lexicon.people.has(words))) {
      return { match: { kind: 'sure', target: this.targetOf('symptoms') }, label: 'symptoms', by: 'symptom' };
    }
    if (words.every((w) => this.lexicon.greetings.has(w))) return { match: { kind: 'greeting' }, label: 'greeting', by: 'greeting' };
    if (this.onlyThanks(words)) return { match: { kind: 'thanks' }, label: 'thanks', by: 'thanks' };
    const exact = this.exactPhrases.get(words.join(' '));
    if (exact) return { match: { kind: 'sure', target: exact }, label: flowOf(exact), by: 'lexicon' };

    const { labels, probabilities } = this.classifier.classify(words);
    const targetScores = this.lexiconIndex.score(words);
    const z = this.scratch;
    for (let c = 0; c < labels.length; c++) z[c] = Math.log(probabilities[c]! + 1e-9);
    const lexical = new Map<string, number>();
    for (const [target, score] of targetScores) {
      const label = this.labelOfFlow.get(flowOf(target));
      if (label !== undefined && score > (lexical.get(label) ?? 0)) lexical.set(label, score);
    }
    for (const [label, score] of lexical) {
      const c = this.labelIndex.get(label)!;
      z[c] = z[c]! + this.tuning.lexiconWeight * score;
    }
    for (const cue of this.lexicon.cues) {
      const c = this.labelIndex.get(cue.label);
      if (c !== undefined && cue.all.every((group) => group.has(words))) z[c] = z[c]! + cue.boost;
    }
    softmaxInPlace(z);
    let best = 0;
    let second = -1;
    for (let c = 1; c < labels.length; c++) {
      if (z[c]! > z[best]!) {
        second = best;
        best = c;
      } else if (second < 0 || z[c]! > z[second]!) second = c;
    }
    const label = labels[best]!;
    const probability = z[best]!;
    const explained = (match: IntentMatch): IntentExplanation => ({ match, label, by: 'classifier', probability });
    if (label === 'none' || probability < this.tuning.outOfScopeBelow) return { ...explained({ kind: 'none' }), label: 'none' };
    if (label === 'greeting' || label === 'thanks' || label === 'menu') return explained({ kind: label });
    if (label === 'emergency') return explained({ kind: 'emergency', target: this.targetOf('emergency') });
    const target = this.stepWithin(this.targetOf(label), targetScores);
    const runnerUp = second >= 0 ? labels[second]! : 'none';
    if (!SPECIAL_LABELS.has(runnerUp) && z[second]! >= probability * this.tuning.unsureRatio) {
      const other = this.stepWithin(this.targetOf(runnerUp), targetScores);
      if (flowOf(other) !== flowOf(target)) return explained({ kind: 'unsure', targets: [target, other] });
    }
    return explained({ kind: 'sure', target });
  }

  /** The flow (or `<flow>__<step>`) a label leads to. */
  private targetOf(label: string): string {
    return this.lexicon.labelTargets.get(label) ?? label;
  }

  /** The step of `target`'s flow that the message names best ("bản đồ" → `epidemic__mapLoad`), else `target`. */
  private stepWithin(target: string, targetScores: ReadonlyMap<string, number>): string {
    if (target.includes('__')) return target;
    let best = target;
    let bestScore = 0;
    for (const [step, score] of targetScores) {
      if (!step.startsWith(`${target}__`)) continue;
      if (score > bestScore) {
        bestScore = score;
        best = step;
      }
    }
    return bestScore >= 1 ? best : target;
  }

  /** True when a phrase of `set` occurs outside the covered positions and is not negated just before. */
  private mentions(words: readonly string[], set: PhraseSet, covered: Uint8Array, negated: Uint8Array): boolean {
    let mentioned = false;
    set.forEach(words, (start, end) => {
      if (mentioned) return;
      for (let i = start; i < end; i++) if (covered[i]) return;
      for (let i = Math.max(0, start - NEGATION_REACH); i < start; i++) if (negated[i]) return;
      mentioned = true;
    });
    return mentioned;
  }

  /** Only thanks and greeting words, with at least one thanks phrase ("ok cảm ơn ad nhé"). */
  private onlyThanks(words: readonly string[]): boolean {
    if (!words.every((w) => this.thanksWords.has(w) || this.lexicon.greetings.has(w))) return false;
    let i = 0;
    let thanked = false;
    while (i < words.length) {
      let step = 0;
      for (let n = Math.min(3, words.length - i); n >= 1 && step === 0; n--) if (this.lexicon.thanks.has(words.slice(i, i + n).join(' '))) step = n;
      if (step > 0) thanked = true;
      else if (this.lexicon.greetings.has(words[i]!)) step = 1;
      else return false;
      i += step;
    }
    return thanked;
  }
}

function coveredPositions(words: readonly string[], set: PhraseSet): Uint8Array {
  const covered = new Uint8Array(words.length);
  set.forEach(words, (start, end) => covered.fill(1, start, end));
  return covered;
}

function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < z.length; i++) {
    z[i] = Math.exp(z[i]! - max);
    sum += z[i]!;
  }
  for (let i = 0; i < z.length; i++) z[i] = z[i]! / sum;
}

/** Everything the engine needs to understand typed messages, loaded and trained once at start-up. */
export interface Understanding {
  intents: CitizenIntentMatcher;
  words: WordLists;
  /** How long training the classifier took (milliseconds), for the start-up log. */
  trainingMs: number;
  examples: number;
}

/**
 * Reads `locales/<lang>/intents.json`, `intent-examples.json` and `words.json` and trains the classifier.
 * `targets`: the flow ids and `<flow>__<step>` names intents may lead to.
 */
export function loadUnderstanding(localesDir: string, targets: readonly string[], displayRoot = process.cwd()): Understanding {
  const lexicon = loadIntentLexicon(localesDir, targets, displayRoot);
  const examples = loadIntentExamples(
    localesDir,
    lexicon,
    targets.filter((t) => !t.includes('__')),
    displayRoot,
  );
  const words = loadWordLists(localesDir, displayRoot);
  const started = performance.now();
  const intents = CitizenIntentMatcher.train(lexicon, examples);
  return { intents, words, trainingMs: performance.now() - started, examples: examples.length };
}
