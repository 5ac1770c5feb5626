import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { IntentExamplesError, loadIntentExamples } from '../src/engine/intentMatcher';
import { flowOf, loadIntentLexicon } from '../src/engine/intents';
import { buildEngine, tempDir } from './support/harness';

const { intents } = buildEngine();
const route = (text: string) => {
  const m = intents.match(text);
  if (m.kind === 'sure') return flowOf(m.target);
  if (m.kind === 'unsure') return `unsure:${m.targets.map(flowOf).join('|')}`;
  return m.kind;
};

describe('understanding a message (CitizenIntentMatcher)', () => {
  it('sends every message of the issue to the right place', () => {
    const cases: Array<[string, string]> = [
      ['con bé nhà em sốt 39 độ từ tối qua ad ơi', 'symptoms'],
      ['Vợ tôi đi chợ về thì sốt nhẹ, đau họng, có phải báo không?', 'symptoms'],
      ['bố tôi ho mấy hôm nay giờ thấy mệt với khó thở', 'emergency'],
      ['my wife has a cough and lost her sense of taste', 'symptoms'],
      ['thôn em có 2 người bên Trung Quốc về đi đường tắt, chưa ai biết', 'report'],
      ['có ng ở Sài Gòn mới về nhà bác tôi mà ko khai báo gì cả ad', 'report'],
      ['đám cưới bản trên hơn trăm người ko ai đeo khẩu trang', 'report'],
      ['thôi không nhận thông báo nữa', 'subscriptions'],
      ['đừng nhắn cho tui nữa', 'subscriptions'],
      ['unsubscribe', 'subscriptions'],
      ['có tiếng Dao không ad?', 'language'],
      ['giá lợn hôm nay bao nhiêu', 'none'],
      ['bao giờ sửa đường lên bản', 'none'],
    ];
    expect(cases.map(([text]) => [text, route(text)])).toEqual(cases);
  });

  it('a danger sign wins over everything, unless it is negated', () => {
    expect(intents.match('cai bluezone xong thi bo em kho tho')).toEqual({ kind: 'emergency', target: 'symptoms' });
    expect(intents.match('me em dau nguc')).toEqual({ kind: 'emergency', target: 'symptoms' });
    expect(route('ong toi lo mo, goi khong thua')).toBe('emergency');
    expect(route('em ho nhung khong kho tho')).toBe('symptoms');
  });

  it('a symptom of the person or their family goes to the symptoms flow; a negated one or a look-alike word does not', () => {
    expect(route('sot ho')).toBe('symptoms');
    expect(route('chau noi toi bi sot')).toBe('symptoms');
    expect(route('hom nay em khong sot, khong ho, cap nhat suc khoe')).toBe('daily');
    expect(route('nop ho so lam giay khai sinh')).toBe('services');
    expect(route('lam ho khau cho con')).toBe('services');
  });

  it('picks the step of the flow the message names', () => {
    expect(intents.match('tram y te gan nhat o dau')).toEqual({ kind: 'sure', target: 'epidemic__where' });
    expect(intents.match('bluezone ton pin qua')).toEqual({ kind: 'sure', target: 'bluezone__fixBattery' });
  });

  it('greetings, thanks and a request for the menu are told apart from requests', () => {
    expect(route('chào ad ạ')).toBe('greeting');
    expect(route('ok cảm ơn ad nhé')).toBe('thanks');
    expect(route('cho toi xem menu')).toBe('menu');
    expect(route('')).toBe('none');
    expect(route('x '.repeat(2500))).toBe('none');
  });

  it('refuses an examples file with an unknown intent, naming the file and the entry', () => {
    const dir = tempDir('cgb-intents-');
    for (const l of ['vi', 'en']) {
      fs.mkdirSync(path.join(dir, l));
      fs.copyFileSync(path.join(PROJECT_ROOT, 'locales', l, 'intents.json'), path.join(dir, l, 'intents.json'));
    }
    fs.writeFileSync(path.join(dir, 'vi', 'intent-examples.json'), JSON.stringify({ examples: [{ text: 'cai bluezone', intent: 'bluezon', split: 'tune' }] }));
    fs.writeFileSync(path.join(dir, 'en', 'intent-examples.json'), JSON.stringify({ examples: [{ text: 'x', intent: 'bluezone', split: 'heldout' }] }));
    const flows = fs.readdirSync(path.join(PROJECT_ROOT, 'flows')).map((f) => f.replace(/\.json$/, ''));
    const targets = flows.flatMap((f) => [f, ...Object.keys(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', `${f}.json`), 'utf8')).steps).map((s) => `${f}__${s}`)]);
    const lexicon = loadIntentLexicon(dir, targets, dir);
    expect(() => loadIntentExamples(dir, lexicon, flows, dir)).toThrow(IntentExamplesError);
    expect(() => loadIntentExamples(dir, lexicon, flows, dir)).toThrow(`vi/intent-examples.json: examples.0: unknown intent 'bluezon' ("cai bluezone")`);
    expect(() => loadIntentExamples(dir, lexicon, flows, dir)).toThrow('en/intent-examples.json: examples.0.split');
  });
});
