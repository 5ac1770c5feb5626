import { buildEngine, Conversation } from './support/harness';

const { engine } = buildEngine({ resumeAfterMs: 30 * 60_000 });

describe('onboarding and the main menu', () => {
  it('greets a new user, asks the language, then the commune, then shows the menu', async () => {
    const c = new Conversation(engine);
    const first = await c.start();
    expect(first).toContain('huyện Bắc Hà, tỉnh Lào Cai');
    expect(first).toContain('1. Tiếng Việt');
    expect(first).toContain('2. English');

    const communes = await c.say('1');
    expect(communes).toContain('Anh/Chị sống ở xã, thị trấn nào?');
    expect(communes).toContain('1. Thị trấn Bắc Hà');
    expect(communes).toContain('19. Xã Thải Giàng Phố');

    const menu = await c.say('4');
    expect(menu).toContain('Đã lưu: Xã Bản Phố');
    expect(menu).toContain('Anh/Chị cần gì?');
    expect(c.session?.profile).toEqual({ locale: 'vi', commune: 'ban-pho' });
  });

  it('understands commune names typed without diacritics, in any case, and old names', async () => {
    for (const [typed, id] of [
      ['ban pho', 'ban-pho'],
      ['XA TA CU TY', 'ta-cu-ty'],
      ['Ta Chai', 'ta-chai'],
      ['lung phin', 'lung-phinh'],
      ['Bản Già', 'ta-cu-ty'],
      ['thi tran bac ha', 'tt-bac-ha'],
      ['nam det', 'nam-det'],
    ] as const) {
      const c = new Conversation(engine);
      await c.start();
      await c.say('tieng viet');
      await c.say(typed);
      expect(c.session?.profile.commune).toBe(id);
    }
  });

  it('works by tapping buttons as well as typing', async () => {
    const c = new Conversation(engine);
    await c.start();
    await c.tap('language:en');
    const menu = await c.tap('commune:coc-ly');
    expect(menu).toContain('Saved: Xã Cốc Ly');
    expect(menu).toContain('What do you need?');
    expect(c.optionIds()).toEqual(['main:declaration', 'main:symptoms', 'main:bluezone', 'main:qr', 'main:epidemic', 'main:report', 'main:more']);
    await c.tap('main:more');
    expect(c.optionIds()).toEqual(expect.arrayContaining(['more:contacts', 'more:services', 'more:commune', 'more:language', 'more:help', 'more:venue', 'more:deletedata', 'more:main']));
  });

  it('re-asks with a short hint when the answer is not one of the options, and changes nothing', async () => {
    const c = new Conversation(engine);
    await c.start();
    const before = structuredClone(c.session);
    for (const bad of ['25', '0', 'blah', '', '😀😀', 'x'.repeat(5000)]) {
      const out = await c.say(bad);
      expect(out).toContain('Xin trả lời bằng một số từ 1 đến 2');
      expect(out).toContain('Anh/Chị dùng tiếng nào?');
      expect(c.session?.step).toBe(before?.step);
      expect(c.session?.profile).toEqual(before?.profile);
    }
  });

  it('refuses a tap on a button of an earlier question and asks the current one', async () => {
    const c = new Conversation(engine);
    await c.start();
    await c.say('1');
    const out = await c.tap('language:en');
    expect(out).toContain('Nút đó là của câu hỏi trước');
    expect(c.session?.profile.locale).toBe('vi');
    expect(c.session?.step).toBe('commune');
  });

  it('a greeting at the menu shows the menu again', async () => {
    const c = new Conversation(engine);
    await c.onboard();
    const out = await c.say('Xin chào');
    expect(out).toContain('Anh/Chị cần gì?');
    expect(out).not.toContain('Xin trả lời bằng một số');
  });

  it('the contacts entry lists the hotlines and leaves out a station whose number is not known', async () => {
    const c = new Conversation(engine);
    await c.onboard();
    const out = await c.say('so dien thoai');
    expect(out).toContain('1900 9095');
    expect(out).toContain('115');
    expect(out).not.toContain('Trạm Y tế xã Bản Phố');
    expect(out).not.toContain('chưa có số điện thoại');
  });

  it('a deep link that arrives before onboarding is honoured right after it', async () => {
    const c = new Conversation(engine);
    await c.start('contacts');
    await c.say('2');
    const out = await c.say('coc lau');
    expect(out).toContain('Important phone numbers');
  });
});

describe('words every flow understands', () => {
  it('"menu", "quay lại"/"quay lai", "huỷ"/"huy" and "help" work with or without diacritics', async () => {
    const c = new Conversation(engine);
    await c.onboard();
    await c.say('so dien thoai'); // contacts ends at the menu again
    await c.start('demo');
    await c.say('Giàng Thị Mai');
    expect(c.session?.step).toBe('year');
    await c.say('quay lại');
    expect(c.session?.step).toBe('name');
    await c.say('Giàng Thị Mai');
    await c.say('quay lai');
    expect(c.session?.step).toBe('name');

    const help = await c.say('tro giup');
    expect(help).toContain('Cách dùng');
    expect(help).toContain('Họ và tên?');
    expect(c.session?.step).toBe('name');

    const cancelled = await c.say('Huỷ');
    expect(cancelled).toContain('Đã huỷ');
    expect(cancelled).toContain('Anh/Chị cần gì?');
    expect(c.session?.flow).toBe('menu');

    await c.start('demo');
    await c.say('huy');
    expect(c.session?.flow).toBe('menu');
    await c.start('demo');
    const menu = await c.say('MENU');
    expect(menu).toContain('Anh/Chị cần gì?');
    expect(c.session?.answers).toEqual({});
  });

  it('"huy" cancels but a name that contains Huy is still a name', async () => {
    const c = new Conversation(engine);
    await c.onboard();
    await c.start('demo');
    await c.say('Hoàng Văn Huy');
    expect(c.session?.answers.name).toBe('Hoàng Văn Huy');
  });

  it('switches language in the middle of a question and asks it again in the new language', async () => {
    const c = new Conversation(engine);
    await c.onboard();
    await c.start('demo');
    const out = await c.say('english');
    expect(out).toContain('Switched to English');
    expect(out).toContain('Full name?');
    expect(c.session?.step).toBe('name');
    const back = await c.say('tiếng việt');
    expect(back).toContain('Họ và tên?');
  });
});

describe('a long form', () => {
  async function demo() {
    const c = new Conversation(engine);
    await c.onboard();
    const first = await c.start('demo');
    return { c, first };
  }

  it('shows progress on each question', async () => {
    const { c, first } = await demo();
    expect(first).toContain('Câu 1/5');
    expect(first).toContain('Họ và tên?');
    expect(await c.say('Giàng Thị Mai')).toContain('Câu 2/5');
  });

  it('re-asks with the validator\'s reason: a name of digits, a year in the future, a bad phone', async () => {
    const { c } = await demo();
    expect(await c.say('12345')).toContain('Tên chỉ có chữ cái');
    expect(await c.say('Mai')).toContain('cả họ và tên');
    expect(c.session?.step).toBe('name');
    await c.say('giàng thị mai');
    expect(c.session?.answers.name).toBe('Giàng Thị Mai');
    expect(await c.say('2099')).toContain('không thể sau năm 2021');
    expect(await c.say('85')).toContain('4 số');
    await c.say('1985');
    expect(await c.say('12345')).toContain('Số điện thoại chưa đúng');
    await c.say('+84 912.345.678');
    expect(c.session?.answers.phone).toBe('+84912345678');
  });

  it('takes a shared contact as the phone answer and offers the share button', async () => {
    const { c } = await demo();
    await c.say('Giàng Thị Mai');
    await c.say('1985');
    expect(c.last.some((r) => r.kind === 'request-phone')).toBe(true);
    await c.contact('84912345678');
    expect(c.session?.answers.phone).toBe('+84912345678');
  });

  it('takes several options typed as numbers, words or taps, and refuses "none" together with others', async () => {
    const { c } = await demo();
    await c.say('Giàng Thị Mai');
    await c.say('1985');
    await c.say('0912345678');
    const bad = await c.say('1 3');
    expect(bad).toContain('“Không có” không chọn cùng mục khác');
    expect(c.session?.step).toBe('symptoms');
    await c.say('sot, ho');
    expect(c.session?.answers.symptoms).toEqual(['fever', 'cough']);

    await c.say('quay lai');
    await c.tap('symptoms:cough');
    const toggled = await c.tap('symptoms:fever');
    expect(toggled).toContain('✓ Sốt');
    expect(toggled).toContain('✓ Ho');
    await c.tap('symptoms:done');
    expect(c.session?.answers.symptoms).toEqual(['fever', 'cough']);
    expect(c.session?.step).toBe('where');
  });

  it('skips an optional location, branches on answers, summarises with labels, lets one field be edited, then ends', async () => {
    const { c } = await demo();
    await c.say('Giàng Thị Mai');
    await c.say('1985');
    await c.say('0912345678');
    await c.say('1');
    expect(c.last.some((r) => r.kind === 'request-location')).toBe(true);
    const summary = await c.say('bo qua');
    expect(summary).toContain('Bạn bị sốt.');
    expect(summary).toContain('• Họ tên: Giàng Thị Mai');
    expect(summary).toContain('• Triệu chứng: Sốt');
    expect(summary).toContain('1. Đúng, gửi đi');

    expect(await c.say('2')).toContain('Anh/Chị muốn sửa mục nào?');
    expect(await c.say('2')).toContain('Năm sinh?');
    const again = await c.say('1990');
    expect(again).toContain('• Năm sinh: 1990');
    expect(c.session?.step).toBe('summary');

    const done = await c.say('1');
    expect(done).toContain('Xong, Giàng Thị Mai.');
    // Not the whole menu again: a way back and what makes sense next.
    expect(done).toContain('Anh/Chị cần gì thêm?');
    expect(done).toContain('1. Về menu');
    expect(c.session?.flow).toBe('menu');
    expect(c.session?.answers).toEqual({});
  });

  it('takes a shared location', async () => {
    const { c } = await demo();
    await c.say('Giàng Thị Mai');
    await c.say('1985');
    await c.say('0912345678');
    await c.say('3');
    await c.location(22.54, 104.29);
    expect(c.session?.answers.where).toEqual({ latitude: 22.54, longitude: 104.29 });
    expect(c.session?.step).toBe('summary');
  });
});

describe('coming back', () => {
  it('after a long pause in a form, offers to continue where the user left off, or to start over', async () => {
    const c = new Conversation(engine);
    await c.onboard();
    await c.start('demo');
    await c.say('Giàng Thị Mai');
    c.now += 2 * 3600_000;
    const offer = await c.say('1985');
    expect(offer).toContain('Chào Anh/Chị quay lại');
    expect(offer).toContain('khai báo thử');
    expect(offer).toContain('1. Làm tiếp');
    expect(c.session?.answers.year).toBeUndefined();

    const cont = await c.say('1');
    expect(cont).toContain('Năm sinh?');
    await c.say('1985');
    expect(c.session?.answers).toMatchObject({ name: 'Giàng Thị Mai', year: 1985 });

    c.now += 2 * 3600_000;
    await c.start();
    const over = await c.say('lam lai');
    expect(over).toContain('Họ và tên?');
    expect(c.session?.answers).toEqual({});
  });

  it('does not ask at the menu: the menu simply answers', async () => {
    const c = new Conversation(engine);
    await c.onboard();
    c.now += 5 * 3600_000;
    expect(await c.say('so dien thoai')).toContain('1900 9095');
  });

  it('a session whose flow changed since it was saved restarts politely and keeps the profile', async () => {
    const c = new Conversation(engine);
    await c.onboard();
    await c.start('demo');
    c.session = { ...c.session!, flowVersion: 99 };
    const out = await c.say('Giàng Thị Mai');
    expect(out).toContain('vừa được cập nhật');
    expect(out).toContain('Anh/Chị cần gì?');
    expect(c.session?.profile.commune).toBe('ban-pho');

    c.session = { ...c.session!, flow: 'demo', flowVersion: 1, step: 'removedStep' };
    expect(await c.say('1')).toContain('vừa được cập nhật');
  });
});
