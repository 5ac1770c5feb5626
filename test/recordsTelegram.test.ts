import type { FakeBotApi } from './support/fakeBotApi';
import { startTelegramServer, type TelegramTestServer } from './support/telegramServer';
import { callbackUpdate, textUpdate } from './support/telegramUpdates';

const TOKEN = '123456789:AAF1x-records-test-token-abcdefgh';
const SECRET = 'records_test_secret';
const DISTRICT_GROUP = -1002000000001;

/** 08:00 in Bắc Hà (UTC+7) on 15 July 2021. */
let now = Date.UTC(2021, 6, 15, 1, 0, 0);

describe('records through the Telegram webhook, and the officials\' inbox', () => {
  let t: TelegramTestServer;
  let bot: FakeBotApi;
  let server: TelegramTestServer['server'];

  beforeAll(async () => {
    t = await startTelegramServer({ token: TOKEN, secret: SECRET, env: { OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT_GROUP) }, clock: () => now });
    ({ bot, server } = t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const deliver = (update: unknown) => t.send(update);
  const textsTo = (chat: number | string) => t.texts(chat);
  /** Sends a message and waits until the bot has answered it. */
  const say = async (chat: number, text: string) => (await t.reply(chat, textUpdate(chat, text))).join('\n---\n');
  async function onboard(chat: number): Promise<void> {
    await say(chat, '/start');
    await say(chat, '1');
    await say(chat, 'ban pho');
    await say(chat, '2'); // no announcements
  }
  async function declare(chat: number, name: string, symptoms: string, address = 'Thôn Na Lang'): Promise<string> {
    await say(chat, 'khai bao y te');
    await say(chat, '2');
    await say(chat, '1');
    await say(chat, name);
    await say(chat, '1990');
    await say(chat, '1');
    await say(chat, '0912 345 678');
    await say(chat, '1');
    await say(chat, address);
    const afterSymptoms = await say(chat, symptoms);
    if (afterSymptoms.includes('dấu hiệu nào')) await say(chat, '4');
    if (afterSymptoms.includes('Gọi ngay 115')) await say(chat, '1'); // a danger sign: go on with the form
    await say(chat, '3');
    await say(chat, '3');
    await say(chat, '5');
    await say(chat, '1');
    return say(chat, '1');
  }
  const recordOf = async (chat: number) =>
    (await server.runtime.db.query<{ id: number; reference: string; status: string }>('SELECT id, reference, status FROM records WHERE user_id = $1 ORDER BY id DESC', [String(chat)]))[0]!;

  it('a declaration on Telegram reaches the officials\' group as literal text, with buttons that work only there, and the citizen is told', async () => {
    const chat = 610001;
    await onboard(chat);
    const done = await declare(chat, 'Giàng Thị Mai', '1 2', 'Thôn <b>Na Lang</b> <a href="http://x">A</a>');
    expect(done).toMatch(/KB-210715-\d{4}/);
    expect(await say(chat, '2')).toContain('Anh/Chị cần gì thêm?'); // no daily updates
    const record = await recordOf(chat);

    await server.runtime.dispatcher.runUntilIdle();
    const notice = bot.callsOf('sendMessage', DISTRICT_GROUP).find((c) => String(c.payload.text).includes(record.reference))!;
    expect(notice.payload.parse_mode).toBe('HTML');
    expect(String(notice.payload.text)).toContain('Thôn &lt;b&gt;Na Lang&lt;/b&gt; &lt;a href="http://x"&gt;A&lt;/a&gt;');
    expect(String(notice.payload.text)).toContain('Họ tên: Giàng Thị Mai');
    expect(String(notice.payload.text)).toContain('🟠 CẦN GỌI');
    expect(String(notice.payload.text)).toContain('Triệu chứng: Sốt, Ho');
    const buttons = (notice.payload.reply_markup.inline_keyboard as Array<Array<{ text: string; callback_data: string }>>).flat();
    expect(buttons.map((b) => b.text)).toEqual(['Tiếp nhận', 'Đã xử lý']);

    // From another chat: refused, nothing changes.
    const elsewhere = callbackUpdate(-1009876, buttons[0]!.callback_data, undefined, 'group', 777);
    await deliver(elsewhere);
    await bot.waitFor(() => bot.callsOf('answerCallbackQuery').some((c) => c.payload.callback_query_id === elsewhere.callback_query.id && String(c.payload.text).includes('Chỉ nhóm nhận báo cáo')));
    expect((await recordOf(chat)).status).toBe('new');

    // From the group: acknowledged, stored with who and when, the group and the citizen are told.
    await deliver(callbackUpdate(DISTRICT_GROUP, buttons[0]!.callback_data, undefined, 'group', 778));
    await bot.waitFor(() => textsTo(DISTRICT_GROUP).some((t) => t.includes(`${record.reference}: đã tiếp nhận bởi`)));
    expect((await recordOf(chat)).status).toBe('acknowledged');
    const changes = await server.runtime.records.repo.statusChanges(record.id);
    expect(changes).toEqual([expect.objectContaining({ status: 'acknowledged', officialId: '778', chatId: String(DISTRICT_GROUP) })]);
    await server.runtime.dispatcher.runUntilIdle();
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes(`${record.reference}`) && t.includes('đã được tiếp nhận')));
    expect(await say(chat, 'bao cao cua toi')).toContain(`${record.reference} · Khai báo y tế · 15/07/2021: đã được tiếp nhận`);
  });

  it('when the officials\' group cannot be reached, the record is stored and the notice goes out after recovery', async () => {
    const chat = 610002;
    await onboard(chat);
    bot.fail('sendMessage', { status: 502, description: 'Bad Gateway' }, { times: 50, match: (p) => String(p.chat_id) === String(DISTRICT_GROUP) });
    const done = await declare(chat, 'Lò Văn Páo', '7');
    expect(done).toMatch(/KB-210715-\d{4}/);
    const record = await recordOf(chat);
    expect(record.reference).toBeDefined();
    const pending = await server.runtime.db.query<{ attempts: number; sent_at: Date | null }>('SELECT attempts, sent_at FROM notices WHERE record_id = $1', [record.id]);
    expect(pending).toHaveLength(1);
    // Recovery: the fake answers normally again; the next attempt is due after the backoff.
    bot.clearFailures();
    now += 10 * 60_000;
    await server.runtime.dispatcher.runUntilIdle();
    await bot.waitFor(() => textsTo(DISTRICT_GROUP).some((t) => t.includes(record.reference)), 10_000);
    const sent = await server.runtime.db.query<{ sent_at: Date | null }>('SELECT sent_at FROM notices WHERE record_id = $1', [record.id]);
    expect(sent[0]!.sent_at).not.toBeNull();
  }, 30_000);

  it('offers daily updates after "stay home", reminds once a day at the hour (even with two job runners), and flags a missed day', async () => {
    const chat = 610003;
    await onboard(chat);
    const done = await declare(chat, 'Sùng Thị Dua', '1');
    expect(done).toContain('Mỗi ngày lúc 8 giờ');
    expect(await say(chat, '1')).toContain('Đã đăng ký');
    const record = await recordOf(chat);

    // The next day at 07:00 local: too early.
    now = Date.UTC(2021, 6, 16, 0, 0, 0);
    const jobs = server.runtime.dailyJobs;
    await jobs.tick();
    expect(textsTo(chat).filter((t) => t.includes('Nhiệt độ cơ thể hôm nay'))).toHaveLength(0);
    // 08:30: two runners at once → one reminder.
    now = Date.UTC(2021, 6, 16, 1, 30, 0);
    await Promise.all([jobs.tick(), jobs.tick()]);
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Nhiệt độ cơ thể hôm nay')));
    await jobs.tick();
    expect(textsTo(chat).filter((t) => t.includes('Nhiệt độ cơ thể hôm nay'))).toHaveLength(1);
    await say(chat, '38,5');
    expect(await say(chat, '2')).toContain('Bây giờ có dấu hiệu nào sau đây không?'); // cough: the danger question
    const worse = await say(chat, '4'); // no danger sign
    // Fever of 38 °C or a symptom: what to do and the station, not "all is well".
    expect(worse).toContain('báo ngay cho trạm y tế xã');
    expect(worse).not.toContain('chưa có dấu hiệu đáng lo');
    await server.runtime.dispatcher.runUntilIdle();
    await bot.waitFor(() => textsTo(DISTRICT_GROUP).some((t) => t.includes(`${record.reference}: cập nhật ngày 2021-07-16`)));
    // The officials' card speaks Vietnamese, not the rule's code.
    const card = textsTo(DISTRICT_GROUP).find((t) => t.includes(record.reference) && t.includes('Mức:'))!;
    expect(card).toContain('Mức: Cách ly tại nhà');
    expect(card).not.toMatch(/\bisolate\b/);

    // A second update the same day: no thermometer, a danger sign → 115 at once.
    await say(chat, 'cap nhat suc khoe');
    expect(await say(chat, 'Không đo được')).toContain('Hôm nay có triệu chứng nào?');
    await say(chat, '1'); // fever
    const danger = await say(chat, '1'); // chest pain
    expect(danger).toContain('Gọi ngay 115');
    expect(danger.indexOf('Gọi ngay 115')).toBeLessThan(danger.indexOf('Đã ghi nhận'));

    // 17 July: no update at all; on the 18th the missed day is flagged, once.
    now = Date.UTC(2021, 6, 18, 2, 0, 0);
    await jobs.tick();
    await jobs.tick();
    await server.runtime.dispatcher.runUntilIdle();
    await bot.waitFor(() => textsTo(DISTRICT_GROUP).some((t) => t.includes(`${record.reference}: người cách ly tại nhà`) && t.includes('17/07/2021')));
    expect(textsTo(DISTRICT_GROUP).filter((t) => t.includes('17/07/2021'))).toHaveLength(1);
  }, 30_000);
});
