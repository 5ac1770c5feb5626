import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { buildEngine, Conversation, tempDir } from './support/harness';

/** What the engine does with typed messages: priorities, answers inside a question, the honest fallback. */

const { engine } = buildEngine();

async function atMenu(e = engine) {
  const c = new Conversation(e, 'web', `u-${Math.random().toString(36).slice(2)}`);
  await c.onboard();
  return c;
}

/** The Bắc Hà file with a help contact for Bản Phố (the real file has no phone to show yet). */
function localityWithContact(): string {
  const loc = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), 'utf8'));
  loc.communes.find((c: { id: string }) => c.id === 'ban-pho').helpContact = { name: 'Cán bộ văn hoá xã', phone: '0214 000 001', where: 'UBND xã' };
  const file = path.join(tempDir('cgb-locality-'), 'with-contact.json');
  fs.writeFileSync(file, JSON.stringify(loc));
  return file;
}

describe('a danger sign', () => {
  it('gets "call 115" before any question, then the symptoms questions', async () => {
    const c = await atMenu();
    const out = await c.say('bố tôi ho mấy hôm nay giờ thấy mệt với khó thở');
    expect(out.indexOf('Gọi ngay 115')).toBeGreaterThanOrEqual(0);
    expect(out.indexOf('Gọi ngay 115')).toBeLessThan(out.indexOf('Anh/Chị đang có triệu chứng nào?'));
    expect(c.session?.flow).toBe('symptoms');
  });

  it('in the middle of another flow too, and from someone new before the onboarding questions', async () => {
    const c = await atMenu();
    await c.choose('Cài ứng dụng');
    expect(await c.say('ad oi me em kho tho lam, moi tim tai')).toContain('Gọi ngay 115');
    expect(c.session?.flow).toBe('symptoms');

    const first = new Conversation(engine, 'zalo', 'danger-first');
    const out = await first.say('con em sot cao co giat');
    expect(out.indexOf('Gọi ngay 115')).toBeGreaterThanOrEqual(0);
    expect(out.indexOf('Gọi ngay 115')).toBeLessThan(out.indexOf('Anh/Chị dùng tiếng nào?'));
    await first.say('1');
    expect(await first.say('ban pho')).toContain('Anh/Chị đang có triệu chứng nào?');
    expect(first.session?.flow).toBe('symptoms');
  });
});

describe('a request typed at the menu', () => {
  it('a sick relative goes to the symptoms flow, a person who came back to the report flow', async () => {
    const c = await atMenu();
    await c.say('con bé nhà em sốt 39 độ từ tối qua ad ơi');
    expect(c.session?.flow).toBe('symptoms');
    await c.say('menu');
    await c.say('có ng ở Sài Gòn mới về nhà bác tôi mà ko khai báo gì cả ad');
    expect(c.session?.flow).toBe('report');
  });

  it('asking for a language the bot lacks shows the languages it has', async () => {
    const c = await atMenu();
    const out = await c.say('có tiếng Dao không ad?');
    // The languages it has, each named in its own language (one per folder under locales/).
    expect(out).toContain('Tiếng Việt');
    expect(out).toContain('English');
    expect(c.session?.flow).toBe('language');
    await c.say('menu');
    expect(await c.say('co tieng anh k')).toContain('English');
    expect(c.session?.flow).toBe('language');
  });

  it('out of scope: one sentence saying what the bot helps with, then the menu; thanks get a short answer', async () => {
    const c = await atMenu();
    for (const text of ['giá lợn hôm nay bao nhiêu', 'bao giờ sửa đường lên bản']) {
      const out = await c.say(text);
      expect(out).toContain('Trợ lý chỉ hỗ trợ về phòng chống dịch Covid-19');
      expect(out).toContain('1. Khai báo y tế');
      expect(c.session?.flow).toBe('menu');
    }
    expect(await c.say('ok cảm ơn ad')).toContain('Không có gì ạ');
  });

  it('after three misunderstandings in a row, offers the commune contact from the locality file (none without a phone)', async () => {
    const withContact = buildEngine({ localityFile: localityWithContact() }).engine;
    const c = await atMenu(withContact);
    await c.say('giá lợn hôm nay bao nhiêu');
    await c.say('quet ma qr');
    await c.say('menu');
    await c.say('asdfgh');
    expect(await c.say('xổ số hôm nay')).not.toContain('0214 000 001');
    const third = await c.say('mua phân bón ở đâu');
    expect(third).toContain('Cán bộ văn hoá xã: 0214 000 001 (UBND xã)');
    expect(await c.say('bán trâu')).not.toContain('0214 000 001');

    const plain = await atMenu();
    const outs = [await plain.say('asdfgh'), await plain.say('qwerty'), await plain.say('zzzz')];
    expect(outs.join('\n')).not.toContain('Anh/Chị có thể hỏi trực tiếp');
  });
});

describe('misunderstanding inside a question', () => {
  it('the third unclear answer in a row also offers the commune contact, and the question is asked again', async () => {
    const withContact = buildEngine({ localityFile: localityWithContact() }).engine;
    const c = await atMenu(withContact);
    await c.start('bluezone');
    expect(c.session?.step).toBe('phone');
    expect(await c.say('asdfgh')).not.toContain('0214 000 001');
    expect(await c.say('qwerty')).not.toContain('0214 000 001');
    const third = await c.say('zzzz');
    expect(third).toContain('Cán bộ văn hoá xã: 0214 000 001 (UBND xã)');
    expect(third).toContain('Điện thoại của Anh/Chị là loại nào?');
    expect(c.session?.step).toBe('phone');
  });
});

describe('inside a question, its own options win', () => {
  it('"co, o vung dich" at the travel question is "Có, từ vùng có dịch", not the epidemic information', async () => {
    const c = await atMenu();
    // A deep link opens only entry steps, so the form is answered up to the travel question.
    await c.start('declaration');
    for (const answer of ['2', '1', 'Giàng Thị Mai', '1985', '2', '0912 345 678', '2', '1', 'Thôn Na Lang']) await c.say(answer);
    if ((await c.say('1 2')).includes('dấu hiệu nào')) await c.say('4');
    expect(c.session?.step).toBe('travel');
    await c.say('co, o vung dich');
    expect(c.session?.answers.travel).toBe('epidemicArea');
    expect(c.session?.step).toBe('contact');
    expect(await c.say('co')).toContain('Xin trả lời bằng một số');
    await c.say('k');
    expect(c.session?.answers.contact).toBe('no');
  });

  it('"sot ho" at the symptoms question picks both, with no guess', async () => {
    const c = await atMenu();
    await c.choose('Báo triệu chứng');
    await c.say('sot ho');
    expect(c.session?.answers.symptoms).toEqual(['fever', 'cough']);
    expect(c.session?.step).toBe('danger');
    expect(c.session?.sub).toBeNull();
  });

  it('"quay lại" at a did-you-mean returns to the question that was being asked', async () => {
    const c = await atMenu();
    await c.choose('Cài ứng dụng');
    await c.say('quet ma qr the nao');
    expect(c.session?.sub).toBe('guess');
    expect(await c.say('quay lai')).toContain('Điện thoại của Anh/Chị là loại nào?');
    expect(c.session?.flow).toBe('bluezone');
    expect(c.session?.step).toBe('phone');
    expect(c.session?.sub).toBeNull();
  });
});
