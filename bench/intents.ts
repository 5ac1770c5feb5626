/*
 * Intent matcher benchmark: start-up cost (reading the data and training the classifier) and CPU per typed message,
 * over every message of the labelled corpus (tuning and held-out parts: realistic lengths, from "hi" to long stories).
 * Usage: `npm run bench:intents`. CPU is process.cpuUsage() (user + system) around the matching loop only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { loadUnderstanding } from '../src/engine/intentMatcher';
import { intentTargets, loadDefinitions } from '../src/runtime';

const ROUNDS = 20;
const STARTS = 5;

function main(): void {
  const localesDir = path.join(PROJECT_ROOT, 'locales');
  const { flows } = loadDefinitions({ localityFile: path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), localesDir, flowsDir: path.join(PROJECT_ROOT, 'flows') });
  const targets = intentTargets(flows);

  const training: number[] = [];
  const loading: number[] = [];
  let understanding = loadUnderstanding(localesDir, targets, PROJECT_ROOT);
  for (let i = 0; i < STARTS; i++) {
    const started = performance.now();
    understanding = loadUnderstanding(localesDir, targets, PROJECT_ROOT);
    loading.push(performance.now() - started);
    training.push(understanding.trainingMs);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  const texts = [
    ...['vi', 'en'].flatMap((l) => (JSON.parse(fs.readFileSync(path.join(localesDir, l, 'intent-examples.json'), 'utf8')).examples as Array<{ text: string }>).map((e) => e.text)),
    ...fs
      .readdirSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'intents'))
      .filter((f) => /^heldout.*\.json$/.test(f))
      .flatMap((f) => (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'intents', f), 'utf8')).messages as Array<{ text: string }>).map((m) => m.text)),
  ];
  const { intents } = understanding;
  for (const t of texts) intents.match(t); // warm-up: let the JIT compile the hot paths
  const cpu = process.cpuUsage();
  const wall = performance.now();
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) for (const t of texts) sink += intents.match(t).kind.length;
  const wallMs = performance.now() - wall;
  const used = process.cpuUsage(cpu);
  const n = ROUNDS * texts.length;
  const cpuMsPerMessage = (used.user + used.system) / 1000 / n;

  console.log(
    [
      `intent matcher: ${understanding.examples} training examples, ${intents.classifier.featureCount} features, ${intents.classifier.labels.length} labels`,
      `start-up: read + train ${median(loading).toFixed(0)} ms (training alone ${median(training).toFixed(0)} ms), median of ${STARTS}`,
      `matching: ${n} messages (${texts.length} distinct × ${ROUNDS}) in ${wallMs.toFixed(0)} ms: ${Math.round((n / wallMs) * 1000)} messages/s, CPU ${(cpuMsPerMessage * 1000).toFixed(1)} µs (${cpuMsPerMessage.toFixed(4)} ms) per message`,
      sink > 0 ? '' : 'no messages matched',
    ].join('\n'),
  );
}

main();
