import { IntentClassifier } from '../../src/engine/intentClassifier';

const words = (text: string) => text.split(' ');
const examples = [
  ['cai bluezone', 'bluezone'],
  ['tai ung dung bluezone', 'bluezone'],
  ['bluezone loi', 'bluezone'],
  ['quet ma qr', 'qr'],
  ['ma qr o cho', 'qr'],
  ['quet ma khi vao cho', 'qr'],
  ['gia lon hom nay', 'none'],
  ['thoi tiet mai', 'none'],
].map(([text, label]) => ({ words: words(text!), label: label! }));

describe('IntentClassifier', () => {
  const model = IntentClassifier.train(examples);
  const best = (text: string) => {
    const { labels, probabilities } = model.classify(words(text));
    let b = 0;
    for (let i = 1; i < labels.length; i++) if (probabilities[i]! > probabilities[b]!) b = i;
    return labels[b];
  };

  it('learns the labels of its examples and gives probabilities that add up to 1', () => {
    expect([...model.labels]).toEqual(['bluezone', 'none', 'qr']);
    for (const e of examples) expect(best(e.words.join(' '))).toBe(e.label);
    const { probabilities } = model.classify(words('cai bluezone'));
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('generalises through character n-grams: typos, words run together, unseen word order', () => {
    expect(best('bluzone')).toBe('bluezone');
    expect(best('quetma')).toBe('qr');
    expect(best('cho o ma qr')).toBe('qr');
  });

  it('ignores words it never saw, and is the same model for the same examples', () => {
    const unseen = model.classify(words('zzzz qqqq'));
    expect(Math.max(...unseen.probabilities)).toBeLessThan(0.6);
    const again = IntentClassifier.train(examples);
    expect([...again.classify(words('ma qr')).probabilities]).toEqual([...model.classify(words('ma qr')).probabilities]);
  });
});
