/*
 * Cross-validation of the intent matcher on the tuning part of the corpus only (`locales/<lang>/intent-examples.json`):
 * the examples are cut into 5 folds; the matcher is trained on 4 and routes the 5th, as at the menu. It prints the
 * accuracy per intent, where out-of-scope messages went, the misses, and (with `--sweep`) how the out-of-scope
 * threshold and ratio (`outOfScopeBelow`, `noneRatio` in `DEFAULT_TUNING`) trade out-of-scope messages against
 * requests. This is how they were chosen, and how to see what a new example breaks, without ever looking at the
 * held-out part (test/fixtures/intents/heldout*.json).
 * Usage: `npm run eval:intents` or `npm run eval:intents -- --sweep`.
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { CitizenIntentMatcher, DEFAULT_TUNING, loadIntentExamples, routeAtMenu, type IntentExample, type IntentMatcherTuning } from '../src/engine/intentMatcher';
import { loadIntentLexicon } from '../src/engine/intents';
import { loadWordLists } from '../src/engine/words';
import { intentTargets, loadDefinitions } from '../src/runtime';

const FOLDS = 5;
const SPECIAL = new Set(['none', 'greeting', 'thanks', 'menu', 'emergency', 'unsubscribe']);
const expectedRoute = (intent: string) => (SPECIAL.has(intent) ? intent : intent === 'subscribe' ? 'subscriptions' : intent);

interface Result {
  right: number;
  total: number;
  perIntent: Map<string, { right: number; total: number }>;
  outOfScope: Record<'fallback' | 'flow' | 'did-you-mean' | 'other', number>;
  misses: string[];
}

function main(): void {
  const localesDir = path.join(PROJECT_ROOT, 'locales');
  const { flows } = loadDefinitions({ localityFile: path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), localesDir, flowsDir: path.join(PROJECT_ROOT, 'flows') });
  const targets = intentTargets(flows);
  const lexicon = loadIntentLexicon(localesDir, targets, PROJECT_ROOT);
  const words = loadWordLists(localesDir, PROJECT_ROOT);
  const examples = loadIntentExamples(
    localesDir,
    lexicon,
    targets.filter((t) => !t.includes('__')),
    PROJECT_ROOT,
  );
  // Stratified folds: the n-th example of each intent goes to fold n mod FOLDS (deterministic).
  const seen = new Map<string, number>();
  const foldOf = examples.map((e) => {
    const n = seen.get(e.intent) ?? 0;
    seen.set(e.intent, n + 1);
    return n % FOLDS;
  });

  const run = (tuning: IntentMatcherTuning): Result => {
    const result: Result = { right: 0, total: 0, perIntent: new Map(), outOfScope: { fallback: 0, flow: 0, 'did-you-mean': 0, other: 0 }, misses: [] };
    for (let fold = 0; fold < FOLDS; fold++) {
      const train: IntentExample[] = examples.filter((_, i) => foldOf[i] !== fold);
      const matcher = CitizenIntentMatcher.train(lexicon, train, undefined, tuning);
      examples.forEach((e, i) => {
        if (foldOf[i] !== fold) return;
        const got = routeAtMenu(matcher, words, e.text);
        const ok = got === expectedRoute(e.intent);
        const entry = result.perIntent.get(e.intent) ?? { right: 0, total: 0 };
        entry.total++;
        result.total++;
        if (ok) {
          entry.right++;
          result.right++;
        } else result.misses.push(`  ${e.intent} → ${got}: ${JSON.stringify(e.text)}`);
        result.perIntent.set(e.intent, entry);
        if (e.intent === 'none') result.outOfScope[got === 'none' ? 'fallback' : got.startsWith('unsure:') ? 'did-you-mean' : SPECIAL.has(got) ? 'other' : 'flow']++;
      });
    }
    return result;
  };

  const ratio = (r: { right: number; total: number } | undefined) => (r ? (r.right / r.total).toFixed(3) : '-');
  if (process.argv.includes('--sweep')) {
    console.log('outOfScopeBelow  noneRatio  overall  none   symptoms  report  out-of-scope to a flow');
    for (const below of [0.35, 0.45, 0.55]) {
      for (const noneRatio of [0.15, 0.25, 0.35, 1]) {
        const r = run({ ...DEFAULT_TUNING, outOfScopeBelow: below, noneRatio });
        console.log(
          `${below.toFixed(2).padEnd(16)} ${noneRatio.toFixed(2).padEnd(10)} ${(r.right / r.total).toFixed(3)}    ${ratio(r.perIntent.get('none'))}  ${ratio(r.perIntent.get('symptoms'))}     ${ratio(r.perIntent.get('report'))}   ${r.outOfScope.flow}`,
        );
      }
    }
    return;
  }
  const r = run(DEFAULT_TUNING);
  const lines = [...r.perIntent].sort(([a], [b]) => a.localeCompare(b)).map(([intent, f]) => `  ${intent.padEnd(12)} ${ratio(f)} (${f.right}/${f.total})`);
  console.log(
    [
      `${FOLDS}-fold cross-validation on the tuning part (${examples.length} examples)`,
      ...lines,
      `  ${'overall'.padEnd(12)} ${(r.right / r.total).toFixed(3)}`,
      `out of scope: ${Object.entries(r.outOfScope).map(([k, n]) => `${n} ${k}`).join(', ')}`,
      `misses (${r.misses.length}):`,
      ...r.misses,
    ].join('\n'),
  );
}

main();
