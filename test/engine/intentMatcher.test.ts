import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import { IntentExamplesError, loadIntentExamples, routeAtMenu } from '../../src/engine/intentMatcher';
import { flowOf, loadIntentLexicon } from '../../src/engine/intents';
import { normalizeText } from '../../src/engine/normalize';
import { matchGlobalCommand } from '../../src/engine/words';
import { buildEngine, tempDir } from '../support/harness';

const { intents, words } = buildEngine();
const route = (text: string) => {
  const m = intents.match(text);
  if (m.kind === 'sure') return flowOf(m.target);
  if (m.kind === 'unsure') return `unsure:${m.targets.map(flowOf).join('|')}`;
  return m.kind;
};

describe('understanding a message (CitizenIntentMatcher)', () => {
  it('every message quoted in issue 13 is in the tuning part of the corpus (or is a command word) and goes to the right place', () => {
    // [message, label in the corpus, where it leads at the menu]
    const quoted: Array<[string, string, string]> = [
      ['con bé nhà em sốt 39 độ từ tối qua ad ơi', 'symptoms', 'symptoms'],
      ['Vợ tôi đi chợ về thì sốt nhẹ, đau họng, có phải báo không?', 'symptoms', 'symptoms'],
      ['bố tôi ho mấy hôm nay giờ thấy mệt với khó thở', 'emergency', 'emergency'],
      ['my wife has a cough and lost her sense of taste', 'symptoms', 'symptoms'],
      ['thôn em có 2 người bên Trung Quốc về đi đường tắt, chưa ai biết', 'report', 'report'],
      ['có ng ở Sài Gòn mới về nhà bác tôi mà ko khai báo gì cả ad', 'report', 'report'],
      ['đám cưới bản trên hơn trăm người ko ai đeo khẩu trang', 'report', 'report'],
      ['thôi không nhận thông báo nữa', 'unsubscribe', 'unsubscribe'],
      ['đừng nhắn cho tui nữa', 'unsubscribe', 'unsubscribe'],
      ['đừng gửi nữa', 'unsubscribe', 'unsubscribe'],
      ['dung gui nua', 'unsubscribe', 'unsubscribe'],
      ['có tiếng Dao không ad?', 'language', 'language'],
      ['co tieng anh k', 'language', 'language'],
      ['giá lợn hôm nay bao nhiêu', 'none', 'none'],
      ['bao giờ sửa đường lên bản', 'none', 'none'],
      ['sot ho', 'symptoms', 'symptoms'],
    ];
    const tuning = new Map(
      ['vi', 'en'].flatMap((l) => (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'locales', l, 'intent-examples.json'), 'utf8')).examples as Array<{ text: string; intent: string }>).map((e) => [normalizeText(e.text), e.intent] as const)),
    );
    // Compared without diacritics, as the classifier reads them ("đừng gửi nữa" is "dung gui nua").
    expect(quoted.map(([text]) => [text, tuning.get(normalizeText(text))])).toEqual(quoted.map(([text, label]) => [text, label]));
    expect(quoted.map(([text]) => [text, routeAtMenu(intents, words, text)])).toEqual(quoted.map(([text, , route]) => [text, route]));
    // The unsubscribe words the issue quotes are held-out messages, so they are not trained on: they are command words
    // of locales/<lang>/words.json, which work in any state.
    for (const text of ['hủy nhận tin', 'huy nhan tin', 'dừng', 'stop', 'unsubscribe']) {
      expect(tuning.has(normalizeText(text))).toBe(false);
      expect([text, matchGlobalCommand(text, words)?.kind]).toEqual([text, 'unsubscribe']);
    }
  });

  it("unsubscribes only on a clear request in the person's own words, never on a complaint that messages do not arrive", () => {
    for (const text of ['đừng nhắn cho tui nữa', 'ad oi dung nhan tin cho e nua nhe', 'thoi khoi gui tin nua', 'please stop the notifications']) expect([text, intents.unsubscribes(text)]).toEqual([text, true]);
    for (const text of ['sao em ko nhan duoc thong bao nua', 'tôi không nhận được mã otp bluezone', 'toi muon nhan thong bao', 'khai bao y te', 'Giàng Thị Mai']) {
      expect([text, intents.unsubscribes(text)]).toEqual([text, false]);
    }
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
