import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { formatPhoneVN } from '../src/engine/phone';
import { listLocalityGaps } from '../src/locality/localityGaps';
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
    await c.say('2'); // tell the commune health station
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
    await c.say('2');
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

describe('the national systems come first', () => {
  it('the declaration explains the difference and offers tokhaiyte.vn / Bluezone first, with the steps and the personal QR code', async () => {
    const c = await atMenu();
    const entry = await c.choose('Khai báo y tế');
    expect(entry).toContain('không thay cho khai báo toàn dân');
    expect(entry).toContain('1. Khai báo y tế toàn dân (https://tokhaiyte.vn / Bluezone, bắt buộc)');
    expect(entry).toContain('2. Báo cho trạm y tế xã');
    const steps = await c.say('1');
    expect(steps).toContain('Mở https://tokhaiyte.vn');
    expect(steps).toContain('mã OTP');
    expect(steps).toContain('Trong ứng dụng Bluezone');
    expect(steps).toContain('Mã QR cá nhân');
    expect(steps).toContain('http://www.bluezone.gov.vn');
  });

  it('typing "tokhaiyte" leads to the national declaration, not to the bot\'s own form', async () => {
    const c = await atMenu();
    const out = await c.say('tokhaiyte');
    expect(out).toContain('Khai báo y tế toàn dân (bắt buộc theo kế hoạch)');
    expect(out).not.toContain('Họ và tên');
  });

  it('choosing the commune health station opens the bot\'s own form', async () => {
    const c = await atMenu();
    await c.choose('Khai báo y tế');
    const out = await c.say('2');
    expect(out).toContain('Anh/Chị khai cho ai?');
    expect(c.session?.step).toBe('who');
  });

  it('the Bluezone flow teaches the declaration in the app and where the personal QR code is', async () => {
    const c = await atMenu();
    await c.choose('Cài ứng dụng');
    await c.say('1'); // Android
    const out = await c.choose('Khai báo y tế trong Bluezone');
    expect(out).toContain('Chọn mục khai báo y tế');
    expect(out).toContain('mã QR cá nhân hiện trong ứng dụng');
    expect(out).toContain('https://tokhaiyte.vn');
  });

  it('the provincial Covid map link of the plan is given', async () => {
    const c = await atMenu();
    const out = await c.say('bản đồ dịch');
    expect(out).toContain('http://covidmap.laocai.gov.vn/');
  });
});

describe('short, polite', () => {
  it('a yes/no question takes có/không/co/k/ko/ừ/yes/no besides its labels', async () => {
    for (const [typed, anonymous] of [['có', true], ['co', true], ['ừ', true], ['yes', true], ['không', false], ['ko', false], ['k', false], ['no', false]] as const) {
      const c = await atMenu();
      await c.choose('Báo người');
      for (const answer of ['2', 'coc ly', 'Thôn Sín Chải', 'bo qua', '1', '2 người từ Trung Quốc về', '1']) await c.say(answer);
      expect(c.session?.step).toBe('anonymous');
      await c.say(typed);
      expect(c.session?.answers.anonymous).toBe(anonymous);
    }
    const c = await atMenu();
    await c.choose('Báo triệu chứng');
    await c.say('4'); // breathing: "call 115", then go on?
    expect(await c.say('có')).toContain('Số điện thoại để trạm y tế gọi lại?');
  });

  it('addresses people as "Anh/Chị" in every Vietnamese text, never "bạn" or "mình"', () => {
    const dir = path.join(PROJECT_ROOT, 'locales', 'vi');
    const userWords = new Set(['intents.json', 'intent-examples.json', 'words.json', 'address.json', 'admin.json', 'officials.json']);
    // The web chat labels the person's own messages "Bạn:" for screen readers (the words): a speaker, not an address.
    const speakerLabels = new Set(['web.json:you']);
    const offending: string[] = [];
    const walk = (file: string, node: unknown, at: string): void => {
      if (speakerLabels.has(`${file}:${at}`)) return;
      if (typeof node === 'string') {
        if (/(?<![\p{L}])(bạn|Bạn|mình|Mình)(?![\p{L}])/u.test(node)) offending.push(`${file}:${at}`);
      } else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(file, v, at ? `${at}.${k}` : k);
    };
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !userWords.has(f))) walk(file, JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')), '');
    expect(offending).toEqual([]);
  });

  it('the address word is one setting per language (locales/vi/address.json)', async () => {
    const c = await atMenu(plain);
    expect(await c.say('menu')).toMatch(/Anh\/Chị cần gì\?/);
  });
});

describe('facts', () => {
  it('5K says "giữ khoảng cách 2 mét"', async () => {
    const c = await atMenu();
    expect(await c.say('quy tac 5k')).toContain('giữ khoảng cách 2 mét');
  });

  it('after a flow ends: "1. Về menu" and the next steps that make sense, not the whole menu', async () => {
    const c = await atMenu();
    await c.choose('Quét mã QR');
    const out = await c.choose('Xong');
    expect(out).toContain('1. Về menu');
    expect(out).toContain('2. Cài ứng dụng Bluezone');
    expect(out).not.toContain('Khai báo y tế');
    const next = await c.say('2');
    expect(c.session?.flow).toBe('bluezone');
    expect(next).toContain('Điện thoại của Anh/Chị là loại nào?');
    await c.say('menu');
    await c.choose('Quét mã QR');
    await c.choose('Xong');
    expect(await c.say('1')).toContain('7. Khác...');
  });
});

describe('empty data, for the IT officer', () => {
  it('lists every empty fact of the locality file once, by its path', () => {
    const loc = buildEngine().locality;
    const gaps = listLocalityGaps(loc);
    expect(gaps).toContain('communes[].healthStation.phone: 19 of 19 communes');
    expect(gaps).toContain('tracingApp.districtHelpContact');
    expect(gaps).not.toContain('epidemic.provincialMapLink');
    const filled = listLocalityGaps(buildEngine({ localityFile: localityWithStationPhone() }).locality);
    expect(filled).toContain('communes[].healthStation.phone: 18 of 19 communes');
  });
});
