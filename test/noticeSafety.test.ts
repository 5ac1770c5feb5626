import type { FakeBotApi } from './support/fakeBotApi';
import { localityWithGroups, PipelineCitizen } from './support/citizens';
import { startTelegramServer, type TelegramTestServer } from './support/telegramServer';
import { callbackUpdate, myChatMemberUpdate } from './support/telegramUpdates';

const TOKEN = '123456789:AAF1x-notice-safety-token-abcdefg';
const SECRET = 'notice_safety_secret';
const DISTRICT = -1002000000100;
const BAN_PHO = -1002000000101;
const COC_LY = -1002000000102;

/** 08:00 in Bắc Hà on 15 July 2021; moved forward by the tests. */
let now = Date.UTC(2021, 6, 15, 1, 0, 0);

describe('notices are never silently given up, and never flood a group', () => {
  let t: TelegramTestServer;
  let bot: FakeBotApi;
  let server: TelegramTestServer['server'];
  let n = 0;
  const citizen = () => new PipelineCitizen(server.runtime, String(830000 + ++n));

  beforeAll(async () => {
    t = await startTelegramServer({
      token: TOKEN,
      secret: SECRET,
      env: { OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT), LOCALITY_FILE: localityWithGroups({ 'ban-pho': String(BAN_PHO), 'coc-ly': String(COC_LY) }), REDIS_URL: undefined },
      clock: () => now,
    });
    ({ bot, server } = t);
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => bot.clearFailures());

  const deliver = (update: unknown) => t.send(update);
  const textsTo = (chat: number | string) => bot.callsOf('sendMessage', chat).filter((c) => !c.failed).map((c) => String(c.payload.text));
  /** Sends what is due, after any run a new record started, and waits for the runs it starts in turn. */
  const dispatch = async () => {
    const d = server.runtime.dispatcher;
    await d.settle();
    await d.runUntilIdle();
    await d.settle();
  };
  const noticeOf = async (reference: string) =>
    (await server.runtime.db.query<{ gave_up_at: Date | null; sent_at: Date | null; waiting_since: Date | null }>(
      `SELECT n.gave_up_at, n.sent_at, n.waiting_since FROM notices n JOIN records r ON r.id = n.record_id WHERE r.reference = $1 AND n.recipient = r.notice_chat_id ORDER BY n.id LIMIT 1`,
      [reference],
    ))[0]!;

  it('a group that removed the bot gets the notice when the bot is back (my_chat_member), not never', async () => {
    const c = citizen();
    await c.onboard();
    bot.fail('sendMessage', { status: 403, description: 'Forbidden: bot was kicked from the group chat' }, { match: (p) => String(p.chat_id) === String(BAN_PHO) });
    const reference = await c.reportSymptoms();
    await dispatch();
    const waiting = await noticeOf(reference);
    expect(waiting.gave_up_at).toBeNull();
    expect(waiting.sent_at).toBeNull();
    expect(textsTo(BAN_PHO).some((t) => t.includes(reference))).toBe(false);

    await deliver(myChatMemberUpdate(BAN_PHO, 'member'));
    await bot.waitFor(() => textsTo(BAN_PHO).some((t) => t.includes(reference)));
  });

  it('after a bounded wait, the notice goes to the district group, whose buttons then work', async () => {
    const c = citizen();
    await c.onboard('coc ly');
    await deliver(myChatMemberUpdate(COC_LY, 'kicked'));
    const reference = await c.reportSymptoms();
    await dispatch();
    expect((await noticeOf(reference)).waiting_since).not.toBeNull();
    now += 31 * 60_000;
    await dispatch();
    const notice = bot.callsOf('sendMessage', DISTRICT).find((call) => String(call.payload.text).includes(reference));
    expect(notice).toBeDefined();
    expect(textsTo(DISTRICT).join('\n')).toContain('không nhận được thông báo này');
    const ack = (notice!.payload.reply_markup.inline_keyboard as Array<Array<{ callback_data: string }>>).flat()[0]!.callback_data;
    await deliver(callbackUpdate(DISTRICT, ack, undefined, 'group', 901));
    await bot.waitFor(() => textsTo(DISTRICT).some((t) => t.includes(`${reference}: đã tiếp nhận bởi`)));
    await deliver(myChatMemberUpdate(COC_LY, 'member'));
  });

  it('a photo the platform refuses: the text and buttons go first, the photo is replaced by a line saying so', async () => {
    const c = citizen();
    await c.onboard();
    bot.fail('sendPhoto', { status: 400, description: 'Bad Request: wrong file identifier/HTTP URL specified' });
    const reference = await c.reportEntrant({ anonymous: true, photo: 'AgAD-unfetchable' });
    await dispatch();
    const texts = textsTo(BAN_PHO);
    const noticeAt = texts.findIndex((t) => t.includes(reference) && t.includes('Người báo: giấu tên'));
    expect(noticeAt).toBeGreaterThanOrEqual(0);
    expect(texts.slice(noticeAt)).toContainEqual(`📷 Ảnh của báo cáo ${reference} không gửi được.`);
  });

  it('a notice that keeps failing is given up after a bounded number of attempts, with an alert to the district group', async () => {
    const c = citizen();
    await c.onboard();
    bot.fail('sendMessage', { status: 400, description: 'Bad Request: can\'t parse entities' }, { times: 100, match: (p) => String(p.chat_id) === String(BAN_PHO) });
    const reference = await c.reportSymptoms();
    for (let i = 0; i < 12; i++) {
      await dispatch();
      now += 20 * 60_000;
    }
    expect((await noticeOf(reference)).gave_up_at).not.toBeNull();
    await bot.waitFor(() => textsTo(DISTRICT).some((t) => t.includes(reference) && t.includes('không gửi được')));
  });

  it('the citizen is told "sent" only once the officials\' notice went out', async () => {
    const c = citizen();
    await c.onboard();
    bot.fail('sendMessage', { status: 403, description: 'Forbidden: bot was kicked from the group chat' }, { match: (p) => String(p.chat_id) === String(BAN_PHO) });
    await c.start('symptoms');
    await c.say('1');
    await c.say('4');
    await c.say('0912345678');
    await c.say('1');
    await c.say('Thôn Na Lang');
    const confirmation = await c.say('1');
    expect(confirmation).not.toMatch(/Đã gửi/);
    expect(confirmation).toContain('Đã ghi nhận');
    await dispatch();
    expect(textsTo(c.userId).some((t) => t.includes('Trạm y tế đã được báo'))).toBe(false);
    await deliver(myChatMemberUpdate(BAN_PHO, 'member'));
    await bot.waitFor(() => textsTo(c.userId).some((t) => t.includes('Trạm y tế đã được báo')));
  });

  it('beyond the ceiling of notices per minute for a commune, the others of that minute come as one digest', async () => {
    now += 60 * 60_000;
    const before = textsTo(BAN_PHO).length;
    const references: string[] = [];
    for (let i = 0; i < 13; i++) {
      const c = citizen();
      await c.onboard();
      references.push(await c.reportSymptoms());
    }
    await dispatch();
    const sent = textsTo(BAN_PHO).slice(before);
    expect(sent.filter((t) => references.some((r) => t.includes(r)))).toHaveLength(10);
    now += 61_000;
    await dispatch();
    const digest = textsTo(BAN_PHO).slice(before).find((t) => t.startsWith('📋'));
    expect(digest).toContain('Thêm 3 báo cáo');
    for (const r of references.slice(10)) expect(digest).toContain(r);
  });
});
