import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { formatPhoneVN } from '../src/engine/phone';
import { buildEngine, Conversation, tempDir } from './support/harness';

/** The Bắc Hà file with a phone for Bản Phố's health station (the real file has none sourced yet). */
function localityWithStationPhone(): string {
  const loc = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), 'utf8'));
  const banPho = loc.communes.find((c: { id: string }) => c.id === 'ban-pho');
  banPho.healthStation = { ...banPho.healthStation, phone: '0214 000 000' };
  const file = path.join(tempDir('cgb-locality-'), 'with-station-phone.json');
  fs.writeFileSync(file, JSON.stringify(loc));
  return file;
}

const withPhone = buildEngine({ localityFile: localityWithStationPhone() }).engine;
const plain = buildEngine().engine;

async function atMenu(engine = withPhone): Promise<Conversation> {
  const c = new Conversation(engine, 'web', `u-${Math.random().toString(36).slice(2)}`);
  await c.onboard();
  return c;
}

describe('danger first', () => {
  it('a danger sign chosen in the symptoms report brings "Gọi ngay 115" with the station phone before any further question', async () => {
    const c = await atMenu();
    await c.choose('Báo triệu chứng');
    await c.say('1'); // fever
    const out = await c.say('1'); // chest pain
    expect(out).toContain('Gọi ngay 115');
    expect(out).toContain('Trạm Y tế xã Bản Phố: 0214 000 000');
    // The warning comes first; what follows is an offer, not a form question.
    expect(out.indexOf('Gọi ngay 115')).toBeLessThan(out.indexOf('không bắt buộc'));
    expect(out).not.toContain('Số điện thoại');
    expect(c.optionIds()).toEqual(['goOn:send', 'goOn:stop']);
    const stop = await c.say('2');
    expect(stop).toContain('chưa gửi gì');
    expect(c.session?.flow).not.toBe('symptoms');
  });

  it('difficulty breathing is a danger sign at once, without the danger question; going on leads to the phone question', async () => {
    const c = await atMenu();
    await c.choose('Báo triệu chứng');
    const out = await c.say('4'); // difficulty breathing
    expect(out).toContain('Gọi ngay 115');
    expect(out).not.toContain('dấu hiệu nào sau đây');
    const next = await c.say('1');
    expect(next).toContain('Số điện thoại để trạm y tế gọi lại?');
  });

  it('without the station phone in the locality file the warning has no empty line about it', async () => {
    const c = await atMenu(plain);
    await c.choose('Báo triệu chứng');
    const out = await c.say('4');
    expect(out).toContain('Gọi ngay 115');
    expect(out).not.toContain('📞');
    expect(out).not.toMatch(/null|undefined/);
  });

  it('the declaration warns at the danger sign too, then goes on with the travel question when the person wants', async () => {
    const c = await atMenu();
    await c.choose('Khai báo y tế');
    for (const answer of ['1', 'Giàng Thị Mai', '1985', '2', '0912 345 678', '2', 'ban pho', 'Thôn Na Lang', '1']) await c.say(answer);
    expect(c.session?.step).toBe('danger');
    const out = await c.say('3'); // blue lips
    expect(out).toContain('Gọi ngay 115');
    const next = await c.say('1');
    expect(c.session?.step).toBe('travel');
    expect(next).not.toContain('Gọi ngay 115');
  });
});

describe('numbered right', () => {
  it('question numbers count the questions asked: a skipped question leaves no gap', async () => {
    const c = await atMenu();
    await c.choose('Khai báo y tế');
    const numbers: number[] = [];
    const note = (out: string) => {
      const m = /Câu (\d+)\//.exec(out);
      if (m) numbers.push(Number(m[1]));
    };
    // Difficulty breathing skips the danger question.
    for (const answer of ['1', 'Giàng Thị Mai', '1985', '2', '0912 345 678', '2', 'ban pho', 'Thôn Na Lang', '4', '1']) note(await c.say(answer));
    expect(c.session?.step).toBe('travel');
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
    expect(numbers.length).toBeGreaterThanOrEqual(10);
  });

  it('phones are shown as people write them', async () => {
    expect(formatPhoneVN('+84912345678')).toBe('0912 345 678');
    expect(formatPhoneVN('+842140000000')).toBe('0214 000 0000');
    expect(formatPhoneVN('Thôn Na Lang')).toBe('Thôn Na Lang');
    const c = await atMenu();
    await c.choose('Báo triệu chứng');
    await c.say('1'); // fever
    await c.say('4'); // no danger sign
    await c.say('+84 912 345 678');
    await c.say('2');
    await c.say('ban pho');
    const summary = await c.say('Thôn Na Lang');
    expect(summary).toContain('0912 345 678');
    expect(summary).not.toContain('+84');
  });
});
