import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { buildEngine, Conversation, tempDir } from './support/harness';

const { engine } = buildEngine();

async function atMenu(options: { userId?: string; channel?: 'web' | 'telegram' | 'zalo'; engineOverride?: typeof engine } = {}) {
  const c = new Conversation(options.engineOverride ?? engine, options.channel ?? 'web', options.userId ?? `u-${Math.random().toString(36).slice(2)}`);
  await c.onboard();
  return c;
}

/** The Bắc Hà file plus facts that tests need but the real file cannot source: station positions, hours, areas. */
function localityWithFacts(): string {
  const loc = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), 'utf8'));
  const byId = (id: string) => loc.communes.find((c: { id: string }) => c.id === id);
  byId('ban-pho').healthStation = { ...byId('ban-pho').healthStation, address: 'Thôn Ví dụ', phone: '0214 000 000', openingHours: { vi: '7:00–17:00', en: '7:00–17:00' }, location: { latitude: 22.52, longitude: 104.3 } };
  byId('coc-ly').healthStation.location = { latitude: 22.41, longitude: 104.18 };
  byId('ban-pho').helpContact = { name: 'Cán bộ văn hoá xã', phone: '0214 000 001', where: 'UBND xã' };
  loc.epidemic.provincialMapLink = 'https://example.org/covid-map';
  loc.epidemic.checkpoints = [
    { id: 'cp-1', name: 'Chốt A', commune: 'ban-pho', description: null, from: '2021-06-01', until: null, checkedOn: '2021-07-14' },
    { id: 'cp-2', name: 'Chốt B', commune: 'coc-ly', description: { vi: 'Đầu cầu', en: 'At the bridge' }, from: '2021-05-01', until: '2021-06-30', checkedOn: '2021-05-20' },
  ];
  loc.epidemic.lockdownAreas = [{ id: 'ld-1', name: 'Thôn C', commune: 'na-hoi', description: null, from: '2021-07-10', until: '2021-07-24', checkedOn: '2021-07-10' }];
  const file = path.join(tempDir('cgb-locality-'), 'with-facts.json');
  fs.writeFileSync(file, JSON.stringify(loc));
  return file;
}

describe('installing the contact-tracing app', () => {
  it('walks an Android user through numbered steps with the store link, the lookalikes and Bluetooth', async () => {
    const c = await atMenu();
    const first = await c.choose('Cài ứng dụng');
    expect(first).toContain('Điện thoại của Anh/Chị là loại nào?');
    const steps = await c.say('1');
    expect(steps).toContain('1. Mở link https://go.zalo.me/bluezone');
    expect(steps).toContain('CH Play');
    expect(steps).toContain('“Bluzone”, “Bluezone Ads”, “Bluezone Pool”');
    expect(steps).toContain('bluezone.gov.vn');
    expect(steps).toContain('Bluetooth');
    expect(steps).toContain('cảnh báo');
    expect(steps).toContain('Anh/Chị làm đến đâu rồi?');
  });

  it('explains how to tell an iPhone, then gives the iPhone steps', async () => {
    const c = await atMenu();
    await c.say('cai bluezone');
    expect(await c.say('khong biet')).toContain('quả táo');
    expect(await c.say('iphone')).toContain('App Store');
  });

  it('answers troubleshooting and privacy questions and comes back to the same question', async () => {
    const c = await atMenu();
    await c.choose('Cài ứng dụng');
    await c.say('1');
    await c.say('2');
    expect(await c.say('1')).toContain('Cài đặt → Bluetooth');
    await c.say('2');
    expect(await c.say('het pin')).toContain('Tiết kiệm pin');
    await c.say('2');
    expect(await c.say('4')).toContain('Xoá bớt');
    await c.say('2');
    expect(await c.say('3')).toContain('không tương thích');
    const privacy = await c.say('3');
    expect(privacy).toContain('không thu thập vị trí');
    expect(privacy).toContain('trên chính điện thoại');
    expect(c.session?.step).toBe('after');
    expect(await c.say('4')).toContain('Gọi ngay trạm y tế xã hoặc đường dây nóng 1900 9095');
  });

  it('counts "I have installed it" once per person, per commune, however often they confirm', async () => {
    const { engine: e, campaign: store } = buildEngine();
    const a = await atMenu({ userId: 'a', engineOverride: e });
    await a.choose('Cài ứng dụng');
    await a.say('1');
    expect(await a.say('1')).toContain('Đã ghi nhận cho Xã Bản Phố');
    // Asked once: official of which agency or commune office, and declared or not.
    expect(await a.say('1')).toContain('cơ quan nào');
    expect(await a.say('van hoa thong tin')).toContain('khai báo y tế');
    expect(await a.say('2')).toContain('tokhaiyte.vn');
    expect(await store.profile('web', 'a')).toEqual({ officialAsked: true, declaredAsked: true });
    await a.choose('Cài ứng dụng');
    await a.say('1');
    const again = await a.say('toi da cai xong');
    expect(again).toContain('đã báo cài Bluezone trước đây rồi');
    expect(again).not.toContain('cán bộ, công chức');
    const b = await atMenu({ userId: 'b', channel: 'zalo', engineOverride: e });
    await b.start('bluezone');
    await b.say('2');
    await b.say('1');
    // The same user id on another channel is another person.
    const sameIdOtherChannel = new Conversation(e, 'telegram', 'a');
    await sameIdOtherChannel.start();
    await sameIdOtherChannel.say('1');
    await sameIdOtherChannel.say('coc ly');
    await sameIdOtherChannel.start('bluezone');
    await sameIdOtherChannel.say('1');
    await sameIdOtherChannel.say('1');
    expect(await store.countInstalls()).toEqual({ 'ban-pho': 2, 'coc-ly': 1 });
  });

  it('"I need help" offers the commune help contact, else the district IT contact, never the medical hotline or an empty phone', async () => {
    const c = await atMenu();
    await c.choose('Cài ứng dụng');
    await c.say('1');
    const help = await c.choose('Tôi cần người giúp');
    expect(help).toContain('Nhờ con cháu');
    expect(help).toContain('UBND Xã Bản Phố');
    expect(help).not.toContain('chưa có số điện thoại');
    expect(help).not.toContain('1900 9095');

    const loc = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), 'utf8'));
    loc.tracingApp.districtHelpContact = { name: 'Phòng Văn hoá – Thông tin huyện', phone: '0214 388 0000', where: 'UBND huyện Bắc Hà' };
    const withIt = path.join(tempDir('cgb-locality-'), 'with-it.json');
    fs.writeFileSync(withIt, JSON.stringify(loc));
    const helped = await atMenu({ engineOverride: buildEngine({ localityFile: withIt }).engine });
    await helped.start('bluezone__after');
    const district = await helped.say('toi can nguoi giup');
    expect(district).toContain('Phòng Văn hoá – Thông tin huyện');
    expect(district).toContain('0214 388 0000');
    expect(district).not.toContain('1900 9095');

    const { engine: e } = buildEngine({ localityFile: localityWithFacts() });
    const d = await atMenu({ engineOverride: e });
    await d.start('bluezone__after');
    const named = await d.say('toi can nguoi giup');
    expect(named).toContain('Cán bộ văn hoá xã');
    expect(named).toContain('0214 000 001');
  });

  it('speaks English with the same data', async () => {
    const c = await atMenu();
    await c.say('english');
    await c.choose('Install the');
    const steps = await c.say('2');
    expect(steps).toContain('Installing Bluezone on an iPhone');
    expect(steps).toContain('Do not install lookalikes');
  });
});

describe('scanning a QR code', () => {
  it('explains why, with Bluezone, with Zalo, with the camera, and without a smartphone, then ends at the menu', async () => {
    const c = await atMenu();
    const intro = await c.choose('Quét mã QR ở nơi công cộng');
    expect(intro).toContain('Khi đến và khi về');
    expect(await c.say('1')).toContain('giờ Anh/Chị đến và giờ Anh/Chị về được ghi lại');
    expect(await c.say('2')).toContain('Quét mã QR');
    expect(await c.say('zalo')).toContain('Mở Zalo');
    expect(await c.say('4')).toContain('Mở ứng dụng Camera');
    expect(await c.say('5')).toContain('số điện thoại');
    const end = await c.say('6');
    expect(end).toContain('Nhớ quét mã khi đến và khi về');
    expect(c.session?.flow).toBe('menu');
  });
});

describe('online public services', () => {
  it('finds procedures by words without diacritics and shows what to prepare, the portal and postal delivery', async () => {
    const c = await atMenu();
    await c.choose('Dịch vụ công trực tuyến');
    await c.say('1');
    const results = await c.say('dang ky ket hon');
    expect(results).toContain('1. Đăng ký kết hôn');
    const card = await c.say('1');
    // One delivery answer, the essentials first, the documents on request.
    expect(card).toContain('Mức độ 3: nộp hồ sơ qua mạng, nhận kết quả trực tiếp tại nơi nộp.');
    expect(card).not.toContain('bưu điện');
    expect(card).toContain('https://dichvucong.gov.vn');
    expect(card).toContain('Lệ phí: Miễn phí');
    expect(card).toContain('⚠️ Thông tin đang được kiểm tra, hỏi bộ phận một cửa xã để chắc chắn.');
    expect(card).not.toContain('của hai người');
    const documents = await c.choose('Xem giấy tờ cần chuẩn bị');
    expect(documents).toContain('CMND hoặc CCCD (căn cước công dân) của hai người');
    await c.choose('Tìm từ khác');
    await c.say('trich luc');
    const level4 = await c.say('1');
    expect(level4).toContain('Mức độ 4: làm hoàn toàn qua mạng, nhận kết quả qua mạng hoặc qua bưu điện.');
    expect(level4.match(/bưu điện/g)).toHaveLength(1);
    expect(level4).not.toContain('trực tiếp tại nơi nộp');
  });

  it('browses by category', async () => {
    const c = await atMenu();
    await c.say('dich vu cong');
    await c.say('xem theo nhom');
    const list = await c.say('kinh doanh');
    expect(list).toContain('Đăng ký thành lập hộ kinh doanh');
    const card = await c.say('1');
    expect(card).toContain('UBND huyện');
    expect(card).toContain('dichvucong.laocai.gov.vn');
  });

  it('without results suggests the categories and the commune one-stop office', async () => {
    const c = await atMenu();
    await c.start('services__query');
    const out = await c.say('xyzw qwerty');
    expect(out).toContain('Không tìm thấy thủ tục nào với “xyzw qwerty”');
    expect(out).toContain('một cửa');
    expect(out).toContain('Xã Bản Phố');
    expect(out).toContain('Chọn nhóm thủ tục');
    expect(c.session?.step).toBe('category');
  });

  it('keeps a search word as a search, even one that names another service', async () => {
    const c = await atMenu();
    await c.start('services__query');
    await c.say('bluezone');
    expect(c.session?.flow).toBe('services');
    expect(c.session?.answers.query).toBe('bluezone');
  });

  it('answers an empty search, emoji and a 5,000-character message kindly and keeps asking', async () => {
    const c = await atMenu();
    await c.start('services__query');
    for (const [bad, hint] of [
      ['', 'Anh/Chị chưa gõ từ nào'],
      ['🙂🙂', 'Anh/Chị chưa gõ từ nào'],
      ['x'.repeat(5000), 'dài quá'],
    ] as const) {
      const out = await c.say(bad);
      expect(out).toContain(hint);
      expect(out).toContain('Anh/Chị cần làm giấy tờ gì?');
      expect(c.session?.step).toBe('query');
    }
  });

  it('in English too', async () => {
    const c = await atMenu();
    await c.say('english');
    await c.start('services__query');
    await c.say('marriage');
    const card = await c.say('1');
    expect(card).toContain('Marriage registration');
    expect(card).toContain('See the documents to prepare');
  });
});

describe('epidemic information', () => {
  it('shows the 5K rules, the hotlines, the commune station (saying what is not known) and the map', async () => {
    const c = await atMenu();
    await c.choose('Thông tin dịch bệnh, trạm y tế');
    expect(await c.say('1')).toContain('Khẩu trang');
    expect(await c.say('2')).toContain('1900 9095');
    const station = await c.say('3');
    expect(station).toContain('Trạm Y tế xã Bản Phố');
    // Facts the locality file lacks are left out, and where to ask is said instead.
    expect(station).not.toContain('Địa chỉ:');
    expect(station).not.toContain('chưa có thông tin');
    expect(station).toContain('hỏi UBND Xã Bản Phố');
    // No checkpoints or areas are listed in the file: the item is hidden, not answered with "none".
    expect(c.last.some((r) => r.kind === 'choices' && r.options.some((o) => o.id === 'pick:areas'))).toBe(false);
    expect(await c.say('4')).toContain('http://covidmap.laocai.gov.vn/');
    await c.say('6');
    expect(c.session?.flow).toBe('menu');
  });

  it('lists checkpoints and lockdown areas with dates, marking ended, unconfirmed and own-commune entries', async () => {
    const { engine: e } = buildEngine({ localityFile: localityWithFacts() });
    const c = await atMenu({ engineOverride: e });
    await c.start('epidemic');
    const areas = await c.say('4');
    expect(areas).toContain('Chốt kiểm soát (2)');
    expect(areas).toContain('Chốt A, Xã Bản Phố: từ 01/06/2021, đến khi có thông báo mới. (xã của Anh/Chị)');
    expect(areas).toContain('Chốt B, Xã Cốc Ly: từ 01/05/2021 đến 30/06/2021. Đầu cầu (đã hết hạn) (⚠ chưa được xác nhận lại từ 20/05/2021)');
    expect(areas).toContain('Khu phong toả (1)');
    expect(areas).toContain('Thôn C, Xã Na Hối');
    expect(await c.say('5')).toContain('https://example.org/covid-map');
    const station = await c.say('3');
    expect(station).toContain('0214 000 000');
    expect(station).toContain('7:00–17:00');
  });

  it('finds the nearest health station from a shared location', async () => {
    const { engine: e } = buildEngine({ localityFile: localityWithFacts() });
    const c = await atMenu({ engineOverride: e });
    await c.start('epidemic');
    await c.say('tram y te gan nhat');
    expect(c.last.some((r) => r.kind === 'request-location')).toBe(true);
    const near = await c.location(22.42, 104.19);
    expect(near).toMatch(/Trạm y tế gần Anh\/Chị nhất \(cách khoảng 1,\d km/);
    expect(near).toContain('Trạm Y tế xã Cốc Ly');
  });

  it('a location far outside the district gets a kind answer and the question again', async () => {
    const c = await atMenu();
    await c.start('epidemic');
    await c.choose('gần tôi nhất');
    const out = await c.location(10.77, 106.7);
    expect(out).toContain('ở ngoài huyện');
    expect(out).toContain('Gửi vị trí');
    expect(c.session?.step).toBe('where');
    expect(c.last.some((r) => r.kind === 'request-location')).toBe(true);
  });

  it('without station positions, says so and shows the commune station', async () => {
    const c = await atMenu();
    await c.start('epidemic');
    await c.choose('gần tôi nhất');
    const out = await c.location(22.53, 104.29);
    expect(out).toContain('chưa có vị trí của các trạm y tế');
    expect(out).toContain('Trạm Y tế xã Bản Phố');
  });
});

describe('understanding typed messages', () => {
  it('at the menu, a clear request starts its flow, with or without diacritics and with abbreviations', async () => {
    for (const [typed, flow, step] of [
      ['Cài Bluezone như thế nào?', 'bluezone', 'phone'],
      ['ko cai dc bluezone', 'bluezone', 'phone'],
      ['quet ma qr o cho', 'qr', 'pick'],
      ['thu tuc hanh chinh', 'services', 'how'],
      ['lam giay khai sinh cho con', 'services', 'results'],
      ['khu cach ly o dau', 'epidemic', 'pick'],
    ] as const) {
      const c = await atMenu();
      await c.say(typed);
      expect([typed, c.session?.flow, c.session?.step]).toEqual([typed, flow, step]);
    }
  });

  it('goes straight to the answer when the message names one: the health station, the nearest one, battery, 5K', async () => {
    const c = await atMenu();
    const station = await c.say('trạm y tế xã mở cửa mấy giờ');
    expect(station).toContain('🏥 Trạm Y tế xã Bản Phố');
    expect(station).toContain('hỏi UBND Xã Bản Phố');
    expect(c.session?.step).toBe('pick');
    await c.say('menu');
    await c.say('tram y te gan nhat o dau');
    expect(c.session?.step).toBe('where');
    expect(c.last.some((r) => r.kind === 'request-location')).toBe(true);
    await c.say('menu');
    expect(await c.say('bluezone ton pin qua')).toContain('Tiết kiệm pin');
    expect(c.session?.step).toBe('after');
    await c.say('menu');
    expect(await c.say('quy tac 5k')).toContain('Khoảng cách');
  });

  it('inside a flow, a request for one of its answers goes there (a new search from the results, too)', async () => {
    const c = await atMenu();
    await c.start('epidemic');
    expect(await c.say('ban do covid')).toContain('http://covidmap.laocai.gov.vn/');
    expect(await c.say('khu cach ly o dau')).toContain('Khu cách ly (0)');
    await c.start('services__query');
    await c.say('ket hon');
    const again = await c.say('giay khai tu');
    expect(again).toContain('Các thủ tục tìm được cho “giay khai tu”');
    expect(again).toContain('1. Đăng ký khai tử');
    expect(await c.say('quay lai')).toContain('Anh/Chị cần làm giấy tờ gì?');
    expect(c.session?.step).toBe('query');
  });

  it('a request for a procedure searches for it at once, and "back" lets the person search for other words', async () => {
    const c = await atMenu();
    const results = await c.say('làm giấy khai sinh cho con');
    expect(results).toContain('Các thủ tục tìm được cho “làm giấy khai sinh cho con”');
    expect(results).toContain('1. Đăng ký khai sinh');
    expect(await c.say('quay lai')).toContain('Anh/Chị cần làm giấy tờ gì?');
    expect(c.session?.step).toBe('query');
  });

  it('when unsure, offers the two best guesses as numbered choices', async () => {
    const c = await atMenu();
    // Asks for contacts and epidemic information alike: which comes first is the classifier's call.
    const out = await c.say('lien he ve dich benh');
    expect(out).toContain('Có phải Anh/Chị muốn hỏi về việc này?');
    expect(out).toMatch(/[12]\. Thông tin dịch bệnh, trạm y tế/);
    expect(out).toMatch(/[12]\. Số điện thoại cần biết/);
    expect(c.session?.sub).toBe('guess');
    await c.choose('Thông tin dịch bệnh');
    expect(c.session?.flow).toBe('epidemic');
    expect(c.session?.sub).toBeNull();
  });

  it('in the middle of a flow, asks before leaving and can go back to the question', async () => {
    const c = await atMenu();
    await c.choose('Cài ứng dụng');
    const out = await c.say('quet ma qr the nao');
    expect(out).toContain('1. Quét mã QR ở nơi công cộng');
    expect(out).toContain('2. Không, trả lời câu đang hỏi');
    expect(c.session?.flow).toBe('bluezone');
    const back = await c.say('2');
    expect(back).toContain('Điện thoại của Anh/Chị là loại nào?');
    expect(c.session?.step).toBe('phone');
    await c.say('quet ma qr');
    await c.tap('$:go:qr');
    expect(c.session?.flow).toBe('qr');
  });

  it('a guess picked by its number asks the question it names, not searching for the number', async () => {
    const c = await atMenu();
    await c.choose('Cài ứng dụng');
    await c.say('dang ky ket hon');
    expect(c.session?.sub).toBe('guess');
    expect(await c.say('1')).toContain('Anh/Chị cần làm giấy tờ gì?');
    expect(c.session?.step).toBe('query');
    expect(c.session?.answers.query).toBeUndefined();
  });

  it('a direct answer to the question still works while guesses are shown', async () => {
    const c = await atMenu();
    await c.choose('Cài ứng dụng');
    await c.say('dang ky ket hon');
    await c.say('iphone');
    expect(c.session?.step).toBe('after');
  });

  it('a greeting shows the menu; nonsense, emoji and a 5,000-character message get one honest sentence and the menu', async () => {
    const c = await atMenu();
    const hello = await c.say('chào bạn nhé');
    expect(hello).toContain('Anh/Chị cần gì?');
    expect(hello).not.toContain('Xin trả lời');
    for (const bad of ['', '😀😀', 'asdfgh', 'x '.repeat(2500)]) {
      const out = await c.say(bad);
      expect(out).toContain('Xin lỗi, trợ lý chưa hiểu ý Anh/Chị. Trợ lý chỉ hỗ trợ về phòng chống dịch');
      expect(out).toContain('7. Khác...');
      expect(c.session?.flow).toBe('menu');
      expect(c.session?.sub).toBeNull();
    }
  });

  it('never takes a free-text answer for a request', async () => {
    const c = await atMenu();
    await c.start('demo');
    await c.say('Giàng Bluezone Covid');
    expect(c.session?.answers.name).toBe('Giàng Bluezone Covid');
  });

  it('does not interrupt onboarding, and goes where the person asked right after it', async () => {
    const c = new Conversation(engine, 'web', 'new-person');
    await c.start();
    const out = await c.say('cai bluezone');
    expect(out).toContain('Xin trả lời bằng một số từ 1 đến 2');
    expect(c.session?.flow).toBe('onboarding');
    await c.say('1');
    expect(await c.say('coc ly')).toContain('Điện thoại của Anh/Chị là loại nào?');
    expect(c.session?.flow).toBe('bluezone');

    const first = new Conversation(engine, 'zalo', 'first-message');
    await first.say('cho hoi quet ma qr the nao');
    await first.say('1');
    await first.say('ban pho');
    expect(first.session?.flow).toBe('qr');
  });
});
