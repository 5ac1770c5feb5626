import fs from 'node:fs';
import path from 'node:path';
import { flowOf } from '../src/engine/intents';
import { FIXTURES, buildEngine } from './support/harness';

type Label = string;
const { intents } = buildEngine();
const { messages } = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'intents', 'citizen-messages.json'), 'utf8')) as { messages: Array<[string, Label]> };

/** What the matcher makes of a message, as a label: a flow id, 'greeting', 'none', or 'unsure:a|b'. */
function understand(text: string): string {
  const m = intents.match(text);
  switch (m.kind) {
    case 'sure':
      return flowOf(m.target);
    case 'unsure':
      return `unsure:${m.targets.map(flowOf).join('|')}`;
    default:
      return m.kind;
  }
}

describe('understanding typed messages: the labelled set of citizen messages', () => {
  it('has at least 150 realistic messages covering every guidance flow', () => {
    expect(messages.length).toBeGreaterThanOrEqual(150);
    const labels = new Set(messages.map(([, label]) => label));
    for (const flow of ['bluezone', 'qr', 'services', 'epidemic', 'contacts', 'greeting', 'none']) expect(labels).toContain(flow);
  });

  it('understands at least 90% of them (the figure is printed)', () => {
    const wrong: string[] = [];
    let unsureButRight = 0;
    for (const [text, label] of messages) {
      const got = understand(text);
      if (got === label) continue;
      if (got.startsWith('unsure:') && got.slice(7).split('|').includes(label)) unsureButRight++;
      wrong.push(`  ${JSON.stringify(text)}: expected ${label}, got ${got}`);
    }
    const right = messages.length - wrong.length;
    const pct = ((100 * right) / messages.length).toFixed(1);
    console.log(
      `intent accuracy: ${right}/${messages.length} = ${pct}% (of the rest, ${unsureButRight} offered the right flow among two guesses)` +
        (wrong.length > 0 ? `\nnot understood:\n${wrong.join('\n')}` : ''),
    );
    expect(right / messages.length).toBeGreaterThanOrEqual(0.9);
  });
});
