import type { FakeBotApi } from './support/fakeBotApi';
import { FakeZalo, newUserId, onboardOnZalo, sayOnZalo, zaloEnv } from './support/fakeZalo';
import { WebUser } from './support/harness';
import { startTelegramServer, type TelegramTestServer } from './support/telegramServer';
import { decodeQr, pdfText } from './support/posterReading';
import { callbackUpdate, contactUpdate, groupTextUpdate, photoUpdate, textUpdate } from './support/telegramUpdates';

const TOKEN = '123456789:AAF1x-venues-test-token-abcdefghij';
const SECRET = 'venues_test_secret';
const DISTRICT_GROUP = -1002000000016;
const PUBLIC_URL = 'https://bot.bacha.example.gov.vn';
const ADMIN_TOKEN = 'venues-admin-token-0123456789';
const ZALO = { accessToken: 'acc-venues-8f3a1c', refreshToken: 'ref-venues-5d2e9b' };

/** 09:00 in Bắc Hà (UTC+7) on 15 July 2021: a market day. */
let now = Date.UTC(2021, 6, 15, 2, 0, 0);
const MINUTE = 60_000;

describe('venues: registration, posters, check-in on every channel, officials and tracing', () => {
  let t: TelegramTestServer;
  let bot: FakeBotApi;
  let zalo: FakeZalo;
  let server: TelegramTestServer['server'];

  beforeAll(async () => {
    zalo = await new FakeZalo(ZALO).start();
    t = await startTelegramServer({
      token: TOKEN,
      secret: SECRET,
      env: { ...zaloEnv(zalo, ZALO), TELEGRAM_BOT_USERNAME: 'bacha_test_bot', ZALO_OA_ID: '4024926008133882615', PUBLIC_URL, ADMIN_TOKEN, OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT_GROUP) },
      clock: () => now,
    });
    ({ bot, server } = t);
  });
  afterAll(async () => {
    await t?.close();
    await zalo?.stop();
  });

  const db = () => server.runtime.db;
  const checkinsOf = (userId: string) =>
    db().query<{ venue_id: number; name: string; phone: string; checked_out_at: Date | null }>('SELECT venue_id, name, phone, checked_out_at FROM venue_checkins WHERE user_id = $1 ORDER BY id', [userId]);

  // ---- web -------------------------------------------------------------------------------------------------

  async function webUser(): Promise<WebUser> {
    const user = new WebUser(server.url);
    await user.start();
    await user.say('1');
    const afterCommune = await user.say('ban pho');
    if (!afterCommune.includes('Anh/Chị cần gì')) await user.say('2');
    return user;
  }

  async function register(user: WebUser, name: string, address: string, commune = 'ban pho', kind = 'cua hang'): Promise<string> {
    expect(await user.say('toi muon tao ma qr cho cua hang')).toContain('chủ cơ sở');
    expect(await user.say('1')).toContain('Tên địa điểm');
    expect(await user.say(name)).toContain('loại nào');
    expect(await user.say(kind)).toContain('xã, thị trấn nào');
    expect(await user.say(commune)).toContain('Thôn');
    await user.say(address);
    await user.say('Nguyễn Thị Hoa');
    const summary = await user.say('0912 345 678');
    expect(summary).toContain(name);
    return user.say('1');
  }

  const venueByName = async (name: string) =>
    (await db().query<{ id: number; reference: string; code: string; status: string; commune: string }>('SELECT id, reference, code, status, commune FROM venues WHERE name = $1 ORDER BY id LIMIT 1', [name]))[0]!;

  // ---- Telegram --------------------------------------------------------------------------------------------

  const deliver = (update: unknown) => t.send(update);
  const textsTo = (chat: number | string) => t.texts(chat);
  const tg = async (chat: number, update: unknown) => (await t.reply(chat, update)).join('\n---\n');

  // ---- Zalo ------------------------------------------------------------------------------------------------

  const zl = (user: string, text: string): Promise<string> => sayOnZalo(zalo, server.url, user, text);

  // ---- the officials' API ----------------------------------------------------------------------------------

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'x-requested-by': 'test-official', ...(init.headers ?? {}) } });

  let market: { id: number; reference: string; code: string; status: string; commune: string };
  let ownerOfPho: WebUser;

  it('registers a venue from the web chat, refuses the same place twice in one commune, and sends the poster', async () => {
    const owner = await webUser();
    const done = await register(owner, 'Chợ văn hoá Bắc Hà', 'Thôn Bắc Hà 1', 'tt bac ha', 'cho');
    expect(done).toMatch(/DD-210715-\d{4}/);
    expect(done).toContain('chờ xác nhận');
    expect(done).toContain(`[document ${PUBLIC_URL}/venues/poster/`);
    market = await venueByName('Chợ văn hoá Bắc Hà');
    expect(market.status).toBe('pending');
    expect(market.code).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);

    // The same place typed differently (case, diacritics, punctuation) by someone else: refused, nothing stored.
    const other = await webUser();
    const again = await register(other, 'CHỢ VĂN HOÁ BẮC HÀ.', 'thôn bắc hà 1', 'tt bac ha', 'cho');
    expect(again).toContain('đã được đăng ký');
    expect(again).toContain(market.reference);
    expect((await db().query('SELECT id FROM venues WHERE commune = $1', [market.commune])).length).toBe(1);
    // The same name and address in another commune is another place.
    expect(await register(other, 'Chợ văn hoá Bắc Hà', 'Thôn Bắc Hà 1', 'ta chai', 'cho')).toMatch(/DD-210715-\d{4}/);
  });

  it('the poster: an A4 PDF with the venue name in its diacritics, and a PNG whose QR code opens the venue check-in page', async () => {
    const pdf = await fetch(`${server.url}/venues/poster/${market.code}.pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const { pages, text } = await pdfText(new Uint8Array(await pdf.arrayBuffer()));
    expect(pages).toBe(1);
    expect(text).toContain('Chợ văn hoá Bắc Hà');
    expect(text).toContain(market.code);
    expect(text).toContain('HUYỆN BẮC HÀ');

    const png = await fetch(`${server.url}/venues/poster/${market.code}.png`);
    expect(png.headers.get('content-type')).toBe('image/png');
    const link = decodeQr(Buffer.from(await png.arrayBuffer()));
    expect(link).toBe(`${PUBLIC_URL}/v/${market.code}`);

    // The link's page (same path on this server) offers the web chat, Telegram and Zalo for this venue.
    const page = await (await fetch(`${server.url}${new URL(link!).pathname}`)).text();
    expect(page).toContain('Chợ văn hoá Bắc Hà');
    expect(page).toContain(`${PUBLIC_URL}/?start=checkin__code__${market.code}`);
    expect(page).toContain(`https://t.me/bacha_test_bot?start=checkin__code__${market.code}`);
    expect(page).toContain('https://zalo.me/4024926008133882615');

    const unknown = await fetch(`${server.url}/v/ABCDEFGH`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('Không tìm thấy địa điểm');
    expect((await fetch(`${server.url}/venues/poster/ABCDEFGH.pdf`)).status).toBe(404);
  });

  it('the commune confirms the venue with the button in the officials\' group; another group cannot', async () => {
    // Notices go out through the outbox; the test server does not run it in the background.
    await server.runtime.dispatcher.runUntilIdle();
    const sent = bot.callsOf('sendMessage', DISTRICT_GROUP).find((c) => String(c.payload.text).includes(market.reference))!;
    expect(sent).toBeDefined();
    const buttons = (sent.payload.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard.flat().map((b) => b.callback_data);
    expect(buttons).toEqual([`ven:ok:${market.id}`, `ven:no:${market.id}`]);

    const stranger = -1009999999999;
    await deliver(callbackUpdate(stranger, `ven:ok:${market.id}`, undefined, 'group', 501));
    await bot.waitFor(() => bot.callsOf('answerCallbackQuery').length > 0);
    expect((await venueByName('Chợ văn hoá Bắc Hà')).status).toBe('pending');

    const before = textsTo(DISTRICT_GROUP).length;
    await deliver(callbackUpdate(DISTRICT_GROUP, `ven:ok:${market.id}`, undefined, 'group', 502));
    await bot.waitFor(() => textsTo(DISTRICT_GROUP).length > before);
    expect(textsTo(DISTRICT_GROUP).slice(before).join('\n')).toContain(`${market.reference} đã được`);
    expect((await venueByName('Chợ văn hoá Bắc Hà')).status).toBe('confirmed');

    // /diadiem lists the district's venues with their status.
    const list = await tg(DISTRICT_GROUP, groupTextUpdate(DISTRICT_GROUP, 502, '/diadiem'));
    expect(list).toContain(`${market.reference} · Chợ văn hoá Bắc Hà`);
    expect(list).toContain('đã xác nhận');
  });

  it('Telegram: the QR deep link opens the check-in; only the tap checks in; a scan within 10 minutes is not a second visit; after 10 minutes it offers to leave', async () => {
    const chat = 716001;
    const link = `/start checkin__code__${market.code}`;
    // Someone new: onboarding first, then the venue.
    expect(await tg(chat, textUpdate(chat, link))).toContain('Tiếng Việt');
    await tg(chat, textUpdate(chat, '1'));
    await tg(chat, textUpdate(chat, 'ban pho'));
    const asked = await tg(chat, textUpdate(chat, '2'));
    expect(asked).toContain('họ và tên');
    await tg(chat, textUpdate(chat, 'Lò Văn Sáng'));
    const confirm = await tg(chat, contactUpdate(chat, '+84987654321'));
    expect(confirm).toContain('Chợ văn hoá Bắc Hà');
    expect(await checkinsOf(String(chat))).toEqual([]);
    const done = await tg(chat, callbackUpdate(chat, 'confirm:in'));
    expect(done).toContain('Đã ghi: Anh/Chị đến Chợ văn hoá Bắc Hà lúc');
    const rows = await checkinsOf(String(chat));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ venue_id: market.id, name: 'Lò Văn Sáng', phone: '+84987654321', checked_out_at: null });

    // Scanning again at once: no second visit, no question.
    now += 2 * MINUTE;
    expect(await tg(chat, textUpdate(chat, link))).toContain('Anh/Chị đã khai báo đến');
    expect(await checkinsOf(String(chat))).toHaveLength(1);

    // A later scan offers to leave; the link alone changes nothing.
    now += 15 * MINUTE;
    expect(await tg(chat, textUpdate(chat, link))).toContain('Anh/Chị đang rời đi?');
    expect((await checkinsOf(String(chat)))[0]!.checked_out_at).toBeNull();
    expect(await tg(chat, callbackUpdate(chat, 'offerOut:out'))).toContain('Đã ghi giờ về');
    expect((await checkinsOf(String(chat)))[0]!.checked_out_at).not.toBeNull();

    // Next visit: name and phone are not asked again.
    now += 60 * MINUTE;
    const again = await tg(chat, textUpdate(chat, link));
    expect(again).toContain('Lò Văn Sáng, +84987654321');
    expect(again).not.toContain('họ và tên');
    expect(await tg(chat, callbackUpdate(chat, 'confirm:no'))).toContain('Không ghi gì');
    expect(await checkinsOf(String(chat))).toHaveLength(1);
  });

  it('Zalo: the visitor sends the venue code, taps to check in, and "rời đi" checks out', async () => {
    const user = newUserId();
    await onboardOnZalo(zalo, server.url, user, 'ban pho');
    const asked = await zl(user, `Mã địa điểm ${market.code.toLowerCase()}`);
    expect(asked).toContain('họ và tên');
    await zl(user, 'Giàng Thị Mai');
    expect(await zl(user, '0912 000 111')).toContain('Chợ văn hoá Bắc Hà');
    expect(await checkinsOf(user)).toEqual([]);
    expect(await zl(user, '1')).toContain('Đã ghi');
    expect(await checkinsOf(user)).toHaveLength(1);

    now += 30 * MINUTE;
    expect(await zl(user, 'rời đi')).toContain('Ghi giờ về bây giờ?');
    expect(await zl(user, '1')).toContain('Đã ghi giờ về');
    expect((await checkinsOf(user))[0]!.checked_out_at).not.toBeNull();
  });

  it('web: the page link checks in after a tap; a forged code gets a clear answer and stores nothing', async () => {
    const visitor = await webUser();
    const forged = await visitor.send({ type: 'start', payload: 'checkin__code__ZZZZ2345' });
    expect(forged).toContain('Không tìm thấy địa điểm có mã ZZZZ2345');
    const opened = await visitor.send({ type: 'start', payload: `checkin__code__${market.code}` });
    expect(opened).toContain('họ và tên');
    await visitor.say('Hoàng Văn Nam');
    expect(await visitor.say('0977 123 456')).toContain('Bấm “Vào”');
    expect(await checkinsOf(visitor.userId)).toEqual([]);
    const tapId = visitor.nextEventId();
    expect(await visitor.send({ type: 'choice', optionId: 'confirm:in' }, tapId)).toContain('Đã ghi');
    // A retry of the same tap (same event id, a bad connection) has no second effect.
    await visitor.send({ type: 'choice', optionId: 'confirm:in' }, tapId);
    expect(await checkinsOf(visitor.userId)).toHaveLength(1);
    now += 20 * MINUTE;
    expect(await visitor.say('rời đi')).toContain('Ghi giờ về');
    expect(await visitor.tap('confirm:out')).toContain('Đã ghi giờ về');
    const rows = await checkinsOf(visitor.userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.checked_out_at).not.toBeNull();
  });

  it('staff check in a visitor without a smartphone ("khai báo hộ") by phone and name', async () => {
    const owner = await webUser();
    await register(owner, 'Quán phở Hương', 'Thôn Na Hối', 'ban pho', 'quan an');
    expect(await owner.say('2')).toContain('Cảm ơn Anh/Chị');
    const assist = await owner.say('khai báo hộ');
    expect(assist).toContain('chủ cơ sở');
    expect(await owner.say('4')).toContain('Số điện thoại của khách');
    await owner.say('0203 111 222');
    expect(await owner.say('Vàng Seo Páo')).toContain('Ghi khách Vàng Seo Páo');
    expect(await owner.say('1')).toContain('Đã ghi Vàng Seo Páo đến Quán phở Hương');
    const pho = await venueByName('Quán phở Hương');
    const rows = await db().query<{ name: string; phone: string; channel: string | null; assisted_by: string }>('SELECT name, phone, channel, assisted_by FROM venue_checkins WHERE venue_id = $1', [pho.id]);
    expect(rows).toEqual([{ name: 'Vàng Seo Páo', phone: '+84203111222', channel: null, assisted_by: `web:${owner.userId}` }]);
    ownerOfPho = owner;
  });

  it('the poster reaches Telegram as a document and Zalo as a picture with the PDF link; the owner marks the national QR code with a photo', async () => {
    const chat = 716100;
    await tg(chat, textUpdate(chat, '/start'));
    await tg(chat, textUpdate(chat, '1'));
    await tg(chat, textUpdate(chat, 'ban pho'));
    await tg(chat, textUpdate(chat, '2'));
    expect(await tg(chat, textUpdate(chat, 'tôi muốn tạo mã QR cho cửa hàng'))).toContain('chủ cơ sở');
    for (const text of ['1', 'Tạp hoá Minh Anh', 'cua hang', 'ban pho', 'Thôn Bản Phố 2', 'Sùng Thị Dợ']) await tg(chat, textUpdate(chat, text));
    expect(await tg(chat, contactUpdate(chat, '+84912888999'))).toContain('Tạp hoá Minh Anh');
    const docsBefore = bot.callsOf('sendDocument', chat).length;
    expect(await tg(chat, callbackUpdate(chat, 'summary:confirm'))).toContain('Xem hướng dẫn?');
    const shop = await venueByName('Tạp hoá Minh Anh');
    const doc = bot.callsOf('sendDocument', chat).slice(docsBefore)[0]!;
    expect(doc.payload.document).toBe(`${PUBLIC_URL}/venues/poster/${shop.code}.pdf`);
    expect(String(doc.payload.caption)).toContain('Tạp hoá Minh Anh');

    const guide = await tg(chat, callbackUpdate(chat, 'afterPoster:national'));
    expect(guide).toContain('https://tokhaiyte.vn');
    expect(await tg(chat, callbackUpdate(chat, 'natAsk:registered'))).toContain('ảnh chụp');
    expect(await tg(chat, photoUpdate(chat, ['qr-s', 'qr-m', 'qr-l']))).toContain('đã đăng ký mã QR quốc gia');
    const [marked] = await db().query<{ national_qr_at: Date | null; national_qr_photo: string | null }>('SELECT national_qr_at, national_qr_photo FROM venues WHERE id = $1', [shop.id]);
    expect(marked!.national_qr_at).not.toBeNull();
    expect(marked!.national_qr_photo).toBe('qr-l');

    // A Zalo owner asks for the poster again: a picture, then the PDF's link.
    const owner = newUserId();
    await onboardOnZalo(zalo, server.url, owner, 'ban pho');
    await zl(owner, 'dang ky dia diem');
    for (const text of ['1', 'Xe khách Bắc Hà – Lào Cai', 'xe khach', '24B-012.34', 'tt bac ha', 'Bến xe Bắc Hà', 'Lù Văn Pủ', '0915 222 333']) await zl(owner, text);
    await zl(owner, '1');
    await zl(owner, '2');
    const coach = await db().query<{ code: string; plate: string }>('SELECT code, plate FROM venues WHERE owner_user_id = $1', [owner]);
    expect(coach).toEqual([{ code: expect.any(String), plate: '24B-01234' }]);
    const before = zalo.sent.filter((m) => m.userId === owner).length;
    expect(await zl(owner, 'mã qr cửa hàng')).toContain('chủ cơ sở');
    await zl(owner, '2');
    const sent = JSON.stringify(zalo.sent.filter((m) => m.userId === owner).slice(before));
    expect(sent).toContain(`${PUBLIC_URL}/venues/poster/${coach[0]!.code}.png`);
    expect(sent).toContain(`${PUBLIC_URL}/venues/poster/${coach[0]!.code}.pdf`);
  });

  it('check-ins are rate limited per person and venue', async () => {
    const actions = server.runtime.venues.actions();
    const pho = await venueByName('Quán phở Hương');
    const ctx = (n: number) => ({
      channel: 'telegram' as const,
      userId: '716200',
      eventId: `rate-${n}`,
      locale: 'vi' as const,
      profile: { locale: 'vi' as const, commune: 'ban-pho' },
      answers: { venueId: String(pho.id), venueCode: pho.code, visitorName: 'Thào A Chứ', visitorPhone: '+84911000222' },
      now,
      display: () => '',
    });
    const limit = server.runtime.locality.venues.checkinsPerHour;
    for (let i = 0; i < limit; i++) expect(await actions.checkInVenue(ctx(i))).toMatchObject({ ok: true });
    expect(await actions.checkInVenue(ctx(limit))).toEqual({ ok: false, message: 'venues.rateLimited' });
    // The same event again (a redelivery) is not a new check-in either way.
    expect(await actions.checkInVenue(ctx(0))).toEqual({ ok: false, message: 'venues.rateLimited' });
    expect(await checkinsOf('716200')).toHaveLength(limit);
    await db().query(`DELETE FROM venue_checkins WHERE user_id = '716200'`);
  });

  it('tracing: visitors of a venue in a time window, for its own commune only, exported as CSV into the audit log, and notified on their channel', async () => {
    const from = new Date(Date.UTC(2021, 6, 15, 0, 0, 0)).toISOString();
    const to = new Date(now + MINUTE).toISOString();
    const q = (commune: string) => `commune=${commune}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

    expect((await fetch(`${server.url}/api/venues?commune=all`)).status).toBe(401);
    expect((await api(`/api/venues/${market.id}/visitors?${q('')}`)).status).toBe(400);
    // Another commune's officials: the venue does not exist for them, nothing is written to the audit log.
    const auditBefore = (await server.runtime.admin.audit.recent()).length;
    expect((await api(`/api/venues/${market.id}/visitors?${q('ban-pho')}`)).status).toBe(404);
    expect((await api(`/api/venues/${market.id}/visitors.csv?${q('ban-pho')}`)).status).toBe(404);
    expect((await server.runtime.admin.audit.recent()).length).toBe(auditBefore);

    const visitors = (await (await api(`/api/venues/${market.id}/visitors?${q(market.commune)}`)).json()) as { visitors: Array<{ name: string; phone: string }> };
    expect(visitors.visitors.map((v) => v.name).sort()).toEqual(['Giàng Thị Mai', 'Hoàng Văn Nam', 'Lò Văn Sáng']);

    const csv = await api(`/api/venues/${market.id}/visitors.csv?${q(market.commune)}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toContain(`truy-vet-${market.reference}.csv`);
    const body = await csv.text();
    expect(body).toContain('Giàng Thị Mai,+84912000111');
    expect(body.split('\r\n').filter(Boolean)).toHaveLength(4);
    // In the dashboard's one audit log, beside the officials' other views and exports.
    const audit = await server.runtime.admin.audit.recent();
    expect(audit[0]).toMatchObject({ actor: 'api:test-official', action: 'venue_export_csv', subject: `venue:${market.reference}`, detail: { scope: market.commune, venueId: market.id, rows: 3 } });

    // The district sees every commune; the web visitor is listed to call by phone (the web chat cannot push).
    const notify = await api(`/api/venues/${market.id}/notify?commune=all`, { method: 'POST', body: JSON.stringify({ from, to, message: 'Xét nghiệm tại trạm y tế.' }) });
    expect(notify.status).toBe(200);
    const notified = (await notify.json()) as { notified: number; callByPhone: Array<{ name: string }> };
    expect(notified.notified).toBe(2);
    expect(notified.callByPhone.map((p) => p.name)).toEqual(['Hoàng Văn Nam']);
    const queued = await db().query<{ channel: string }>(`SELECT channel FROM notices WHERE replies::text LIKE '%Chợ văn hoá Bắc Hà%' AND channel <> 'telegram' OR (channel = 'telegram' AND recipient = '716001')`);
    expect(queued.map((r) => r.channel).sort()).toEqual(['telegram', 'zalo']);
  });

  it('officials add a venue found in the field and read the figures per commune and kind, within their scope', async () => {
    const body = { name: 'Nhà nghỉ Sơn Hà', kind: 'lodging', commune: 'ban-pho', address: 'Thôn Lùng Choáng', requestId: 'field-0001' };
    expect((await api('/api/venues?commune=ta-chai', { method: 'POST', body: JSON.stringify(body) })).status).toBe(403);
    const added = await api('/api/venues?commune=ban-pho', { method: 'POST', body: JSON.stringify(body) });
    expect(added.status).toBe(201);
    expect((await api('/api/venues?commune=ban-pho', { method: 'POST', body: JSON.stringify(body) })).status).toBe(200);
    const figures = (await (await api('/api/venues/figures?commune=ban-pho')).json()) as { figures: Array<{ commune: string; kind: string; listed: number; confirmed: number; checkedOnSite: number }> };
    expect(figures.figures.every((f) => f.commune === 'ban-pho')).toBe(true);
    expect(figures.figures.find((f) => f.kind === 'lodging')).toMatchObject({ listed: 1, confirmed: 1, checkedOnSite: 1 });

    // The market was registered by its owner; the town's officials check it on site, Bản Phố's cannot.
    expect((await api(`/api/venues/${market.id}/checked-on-site?commune=ban-pho`, { method: 'POST' })).status).toBe(404);
    const checked = await api(`/api/venues/${market.id}/checked-on-site?commune=${market.commune}`, { method: 'POST' });
    expect(((await checked.json()) as { venue: { checkedOnSite: boolean } }).venue.checkedOnSite).toBe(true);
  });

  it('check-ins are kept 21 days, then the daily job deletes them; "delete my data" deletes a person\'s check-ins at once', async () => {
    const chat = 716001;
    expect((await checkinsOf(String(chat))).length).toBeGreaterThan(0);
    expect(await tg(chat, textUpdate(chat, 'xóa dữ liệu'))).toContain('1');
    await tg(chat, textUpdate(chat, '1'));
    expect(await checkinsOf(String(chat))).toEqual([]);
    expect(await db().query('SELECT 1 FROM venue_visitors WHERE user_id = $1', [String(chat)])).toEqual([]);

    // An owner's "delete my data": the place stays listed, without their name, phone or account.
    expect(await ownerOfPho.say('2')).toContain('Xong');
    expect(await ownerOfPho.say('xóa dữ liệu')).toContain('1');
    await ownerOfPho.say('1');
    const [pho] = await db().query<{ owner_name: string | null; owner_phone: string | null; owner_user_id: string | null }>(`SELECT owner_name, owner_phone, owner_user_id FROM venues WHERE name = 'Quán phở Hương'`);
    expect(pho).toEqual({ owner_name: null, owner_phone: null, owner_user_id: null });

    const remaining = (await db().query('SELECT id FROM venue_checkins')).length;
    expect(remaining).toBeGreaterThan(0);
    now += 20 * 24 * 60 * MINUTE;
    await server.runtime.venues.purgeExpired(new Date(now));
    expect((await db().query('SELECT id FROM venue_checkins')).length).toBe(remaining);
    now += 2 * 24 * 60 * MINUTE;
    await server.runtime.dailyJobs.tick();
    expect(await db().query('SELECT id FROM venue_checkins')).toEqual([]);
    expect(await db().query('SELECT 1 FROM venue_visitors')).toEqual([]);
  });
});
