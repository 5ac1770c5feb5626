import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { deliveryKey } from '../src/broadcasts/BroadcastRepository';
import { FakeBotApi } from './support/fakeBotApi';
import { FakeZalo, zaloEnv } from './support/fakeZalo';
import { startServer, tempDir, testRedisUrl, uniquePrefix } from './support/harness';
import { callbackUpdate, groupTextUpdate, textUpdate } from './support/telegramUpdates';

const TOKEN = '123456789:AAF1x-broadcast-test-token-abcdefg';
const SECRET = 'broadcast_test_secret';
const ADMIN = 'admin-token-for-tests-0123456789';
const DISTRICT_GROUP = -1001000000001;
const BAN_PHO_GROUP = -1001000000002;
const INITIAL = { accessToken: 'acc-bc-1', refreshToken: 'ref-bc-1' };

/** The Bắc Hà file with an officials' group for Bản Phố. */
function localityWithGroups(): string {
  const loc = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), 'utf8'));
  loc.communes.find((c: { id: string }) => c.id === 'ban-pho').officialsTelegramChatId = String(BAN_PHO_GROUP);
  const file = path.join(tempDir(), 'bac-ha-groups.json');
  fs.writeFileSync(file, JSON.stringify(loc));
  return file;
}

describe('announcements', () => {
  let bot: FakeBotApi;
  let zalo: FakeZalo;
  let server: Awaited<ReturnType<typeof startServer>>;
  const now = () => new Date();

  beforeAll(async () => {
    bot = await FakeBotApi.start(TOKEN);
    zalo = await new FakeZalo(INITIAL).start();
    server = await startServer({
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: bot.url,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      PUBLIC_URL: 'https://bot.bacha.example.gov.vn',
      ...zaloEnv(zalo, INITIAL),
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix(),
      OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT_GROUP),
      LOCALITY_FILE: localityWithGroups(),
      ADMIN_TOKEN: ADMIN,
      TELEGRAM_BROADCAST_RATE: '200',
    });
  });
  afterAll(async () => {
    await server.close();
    await bot.close();
    await zalo.stop();
  });

  const repo = () => server.runtime.broadcasts.repo;
  const api = (pathname: string, init: RequestInit & { token?: string | null } = {}) =>
    fetch(`${server.url}${pathname}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? ADMIN}` }) },
    });
  const deliver = async (update: unknown) => {
    const res = await fetch(`${server.url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
    expect(res.status).toBe(200);
  };
  const textsTo = (chat: number | string) => bot.callsOf('sendMessage', chat).map((c) => String(c.payload.text));

  async function subscribe(channel: 'telegram' | 'zalo', userId: string, commune: string, topics: { urgent: boolean; news: boolean } = { urgent: true, news: true }) {
    await repo().subscribe({ channel, userId, commune, locale: 'vi', ...topics }, now());
  }

  it('a citizen on Telegram subscribes at onboarding, and "đăng ký" in the menu changes it', async () => {
    const chat = 880001;
    await deliver(textUpdate(chat, '/start'));
    await deliver(textUpdate(chat, '1'));
    await deliver(textUpdate(chat, 'nam mon'));
    await deliver(textUpdate(chat, '1'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Anh/Chị cần gì?')));
    expect(await repo().subscription('telegram', String(chat))).toMatchObject({ commune: 'nam-mon', urgent: true, news: true, active: true });
    await deliver(textUpdate(chat, 'dang ky'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Anh/Chị đang nhận mọi thông báo của Xã Nậm Mòn')));
    await deliver(textUpdate(chat, '2'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Đã đăng ký nhận thông báo khẩn')));
    expect(await repo().subscription('telegram', String(chat))).toMatchObject({ urgent: true, news: false, active: true });
  });

  it('unsubscribe words stop the announcements in any state, even in the middle of a declaration', async () => {
    const chat = 880002;
    await deliver(textUpdate(chat, '/start'));
    await deliver(textUpdate(chat, '1'));
    await deliver(textUpdate(chat, 'ban pho'));
    await deliver(textUpdate(chat, '1'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Anh/Chị cần gì?')));
    expect(await repo().subscription('telegram', String(chat))).toMatchObject({ active: true });
    await deliver(textUpdate(chat, 'khai bao y te'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Khai báo y tế toàn dân')));
    await deliver(textUpdate(chat, 'Dừng'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Đã huỷ đăng ký. Anh/Chị sẽ không nhận thông báo nữa.')));
    expect(await repo().subscription('telegram', String(chat))).toMatchObject({ active: false });
    await deliver(textUpdate(chat, 'dang ky'));
    await deliver(textUpdate(chat, '1'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Đã đăng ký nhận mọi thông báo')));
    await deliver(textUpdate(chat, 'đừng gửi nữa'));
    await bot.waitFor(() => textsTo(chat).filter((t) => t.includes('Đã huỷ đăng ký')).length === 2);
    expect(await repo().subscription('telegram', String(chat))).toMatchObject({ active: false });
  });

  it('unsubscribing in their own words works too, at the menu and inside a question; a complaint that nothing arrives does not unsubscribe', async () => {
    const chat = 880003;
    await deliver(textUpdate(chat, '/start'));
    await deliver(textUpdate(chat, '1'));
    await deliver(textUpdate(chat, 'ban pho'));
    await deliver(textUpdate(chat, '1'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Anh/Chị cần gì?')));
    await deliver(textUpdate(chat, 'đừng nhắn cho tui nữa'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Đã huỷ đăng ký. Anh/Chị sẽ không nhận thông báo nữa.')));
    expect(await repo().subscription('telegram', String(chat))).toMatchObject({ active: false });

    await deliver(textUpdate(chat, 'dang ky'));
    await deliver(textUpdate(chat, '1'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Đã đăng ký nhận mọi thông báo')));
    // A complaint that nothing arrives shows what the person receives (the subscriptions question), and stops nothing.
    await deliver(textUpdate(chat, 'sao em ko nhan duoc thong bao nua'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Anh/Chị đang nhận mọi thông báo')));
    await deliver(textUpdate(chat, 'menu'));
    await deliver(textUpdate(chat, 'khai bao y te'));
    await bot.waitFor(() => textsTo(chat).some((t) => t.includes('Khai báo y tế toàn dân')));
    expect(await repo().subscription('telegram', String(chat))).toMatchObject({ active: true });
    await deliver(textUpdate(chat, 'ad oi dung nhan tin cho e nua nhe'));
    await bot.waitFor(() => textsTo(chat).filter((t) => t.includes('Đã huỷ đăng ký')).length === 2);
    expect(await repo().subscription('telegram', String(chat))).toMatchObject({ active: false });
  });

  it('the API refuses calls without the token or with a wrong one, and names the bad field of a malformed body', async () => {
    const body = JSON.stringify({ communes: 'all', text: { vi: 'Thông báo thử nghiệm' } });
    expect((await api('/api/broadcasts', { method: 'POST', body, token: null })).status).toBe(401);
    expect((await api('/api/broadcasts', { method: 'POST', body, token: 'wrong-token-wrong-token' })).status).toBe(401);
    expect((await api('/api/broadcasts/1', { token: null })).status).toBe(401);
    const bad = await api('/api/broadcasts', { method: 'POST', body: JSON.stringify({ communes: 'all', text: { vi: 'ab' }, topic: 'sports' }) });
    expect(bad.status).toBe(400);
    const problems = ((await bad.json()) as { problems: string[] }).problems.join('\n');
    expect(problems).toContain('text.vi');
    expect(problems).toContain('topic');
    const unknown = await api('/api/broadcasts', { method: 'POST', body: JSON.stringify({ communes: ['atlantis'], text: { vi: 'Thông báo thử nghiệm' } }) });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { problems: string[] }).problems[0]).toContain("atlantis");
    expect((await api('/api/broadcasts', { method: 'POST', body: '{"communes":' })).status).toBe(400);
  });

  it('reaches every subscriber of the chosen communes once, on Telegram and Zalo, in their language, and nobody else', async () => {
    await subscribe('telegram', '7001', 'coc-ly');
    await subscribe('telegram', '7002', 'coc-ly', { urgent: true, news: false });
    await subscribe('zalo', '9001', 'coc-ly');
    await repo().subscribe({ channel: 'telegram', userId: '7003', commune: 'coc-ly', locale: 'en', urgent: true, news: true }, now());
    await subscribe('telegram', '7004', 'lung-cai');
    await subscribe('telegram', '7005', 'coc-ly');
    await repo().unsubscribe('telegram', '7005', 'user', now());

    const res = await api('/api/broadcasts', { method: 'POST', body: JSON.stringify({ communes: ['coc-ly'], topic: 'news', text: { vi: 'Họp dân lúc 8 giờ.', en: 'Village meeting at 8.' } }) });
    expect(res.status).toBe(201);
    const { id, total } = (await res.json()) as { id: number; total: number };
    expect(total).toBe(3);
    await server.runtime.broadcastSender.runUntilIdle();
    await server.runtime.broadcastSender.runUntilIdle();

    expect(textsTo(7001)).toEqual([expect.stringContaining('Họp dân lúc 8 giờ.')]);
    expect(textsTo(7003)).toEqual([expect.stringContaining('Village meeting at 8.')]);
    expect(zalo.textsTo('9001')).toEqual([expect.stringContaining('Họp dân lúc 8 giờ.')]);
    expect(textsTo(7002)).toEqual([]);
    expect(textsTo(7004)).toEqual([]);
    expect(textsTo(7005)).toEqual([]);

    const progress = (await (await api(`/api/broadcasts/${id}`)).json()) as { status: string; totals: Record<string, number>; byCommune: Record<string, Record<string, number>> };
    expect(progress.status).toBe('done');
    expect(progress.totals).toEqual({ sent: 3 });
    expect(progress.byCommune['coc-ly']).toEqual({ sent: 3 });
  });

  it('waits out a 429 (retry_after) for every sender, then delivers once', async () => {
    await subscribe('telegram', '7101', 'ban-lien');
    bot.fail('sendMessage', { status: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } }, { match: (p) => String(p.chat_id) === '7101' });
    const { id } = (await (await api('/api/broadcasts', { method: 'POST', body: JSON.stringify({ communes: ['ban-lien'], text: { vi: 'Lịch tiêm chủng tuần này.' } }) })).json()) as { id: number };
    await server.runtime.broadcastSender.runUntilIdle();
    expect(bot.callsOf('sendMessage', 7101)).toHaveLength(1); // refused with 429
    expect(await repo().report(id)).toEqual([expect.objectContaining({ status: 'pending', n: 1 })]);
    await new Promise((r) => setTimeout(r, 1100));
    await server.runtime.broadcastSender.runUntilIdle();
    expect(bot.callsOf('sendMessage', 7101)).toHaveLength(2); // the refused one and the delivered one
    const [refused, delivered] = bot.callsOf('sendMessage', 7101);
    expect(delivered!.at - refused!.at).toBeGreaterThanOrEqual(990);
    expect(await repo().report(id)).toEqual([expect.objectContaining({ status: 'sent', n: 1 })]);
    expect((await server.runtime.broadcasts.repo.findBroadcast(id))!.status).toBe('done');
  });

  it('unsubscribes a user who blocked the bot (403), keeps Zalo\'s outside-window follower\'s copy in their box, and retries nothing', async () => {
    await subscribe('telegram', '7201', 'bao-nhai');
    await subscribe('zalo', '9201', 'bao-nhai');
    await subscribe('telegram', '7202', 'bao-nhai');
    bot.fail('sendMessage', { status: 403, description: 'Forbidden: bot was blocked by the user' }, { match: (p) => String(p.chat_id) === '7201' });
    zalo.scriptedErrors.set('9201', [-230]);
    const { id } = (await (await api('/api/broadcasts', { method: 'POST', body: JSON.stringify({ communes: ['bao-nhai'], topic: 'urgent', text: { vi: 'Khẩn: phong toả thôn A.' } }) })).json()) as { id: number };
    await server.runtime.broadcastSender.runUntilIdle();
    await server.runtime.broadcastSender.runUntilIdle();
    const progress = (await (await api(`/api/broadcasts/${id}`)).json()) as { totals: Record<string, number> };
    // No template or article path is configured here: the follower outside the window gets it in their box.
    expect(progress.totals).toEqual({ sent: 1, unreachable: 1, boxed: 1 });
    expect(await repo().subscription('telegram', '7201')).toMatchObject({ active: false });
    expect(await repo().subscription('zalo', '9201')).toMatchObject({ active: true });
    expect(bot.callsOf('sendMessage', 7201)).toHaveLength(1);
    expect(textsTo(7202)[0]).toContain('THÔNG BÁO KHẨN');
  });

  it('/thongbao in a commune group reaches only its own commune; the district group chooses; other groups are refused', async () => {
    await subscribe('telegram', '7301', 'ban-pho');
    await subscribe('telegram', '7302', 'coc-lau');
    const official = 5551;
    const say = (chat: number, text: string) => deliver(groupTextUpdate(chat, official, text));

    await say(-1009999, '/thongbao');
    await bot.waitFor(() => textsTo(-1009999).some((t) => t.includes('chưa được đăng ký là nhóm cán bộ')));

    await say(BAN_PHO_GROUP, '/thongbao');
    await bot.waitFor(() => textsTo(BAN_PHO_GROUP).some((t) => t.includes('Thông báo cho Xã Bản Phố')));
    await say(BAN_PHO_GROUP, '2');
    await say(BAN_PHO_GROUP, 'Ngày mai thu gom rác <b>sớm</b>.');
    await say(BAN_PHO_GROUP, 'bo qua');
    await bot.waitFor(() => textsTo(BAN_PHO_GROUP).some((t) => t.includes('Xem trước')));
    const preview = textsTo(BAN_PHO_GROUP).find((t) => t.includes('Xem trước'))!;
    expect(preview).toContain('Gửi tới: Xã Bản Phố');
    expect(preview).toContain('Telegram: 1, Zalo: 0');
    expect(preview).toContain('&lt;b&gt;sớm&lt;/b&gt;');
    await deliver(callbackUpdate(BAN_PHO_GROUP, bot.buttonData(BAN_PHO_GROUP, 'Gửi'), undefined, 'group', official));
    await bot.waitFor(() => textsTo(BAN_PHO_GROUP).some((t) => t.includes('bắt đầu gửi tới 1 người nhận')));
    await server.runtime.broadcastSender.runUntilIdle();
    // What officials type reaches citizens as literal text (HTML parse mode with every string escaped).
    expect(textsTo(7301)).toEqual([expect.stringContaining('Ngày mai thu gom rác &lt;b&gt;sớm&lt;/b&gt;.')]);
    expect(textsTo(7302)).toEqual([]);
    // The final report goes to the group through the notice outbox.
    await server.runtime.dispatcher.runUntilIdle();
    await bot.waitFor(() => textsTo(BAN_PHO_GROUP).some((t) => t.includes('gửi xong') && t.includes('Xã Bản Phố: đã gửi trong 7 ngày 1')));

    await say(DISTRICT_GROUP, '/thongbao');
    await bot.waitFor(() => textsTo(DISTRICT_GROUP).some((t) => t.includes('Gửi cho xã nào?')));
    await say(DISTRICT_GROUP, 'atlantis');
    await bot.waitFor(() => textsTo(DISTRICT_GROUP).some((t) => t.includes('không nhận ra')));
    await say(DISTRICT_GROUP, 'ban pho, coc lau');
    await say(DISTRICT_GROUP, '1');
    await say(DISTRICT_GROUP, 'Khẩn: tạm dừng chợ phiên.');
    await say(DISTRICT_GROUP, 'Urgent: the market is closed.');
    await bot.waitFor(() => textsTo(DISTRICT_GROUP).some((t) => t.includes('Xem trước')));
    expect(textsTo(DISTRICT_GROUP).find((t) => t.includes('Xem trước'))).toContain('Telegram: 2');
    // The commune group cannot confirm the district's draft.
    await deliver(callbackUpdate(BAN_PHO_GROUP, bot.buttonData(DISTRICT_GROUP, 'Gửi'), undefined, 'group', official));
    await deliver(callbackUpdate(DISTRICT_GROUP, bot.buttonData(DISTRICT_GROUP, 'Gửi'), undefined, 'group', official));
    await bot.waitFor(() => textsTo(DISTRICT_GROUP).some((t) => t.includes('bắt đầu gửi tới 2 người nhận')));
  });

  it('a running broadcast can be cancelled: what was not sent is not sent', async () => {
    for (let i = 0; i < 5; i++) await subscribe('telegram', `74${i}`, 'na-hoi');
    const { id } = (await (await api('/api/broadcasts', { method: 'POST', body: JSON.stringify({ communes: ['na-hoi'], text: { vi: 'Sẽ bị dừng trước khi gửi.' } }) })).json()) as { id: number };
    const cancel = await api(`/api/broadcasts/${id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    expect((await api(`/api/broadcasts/${id}/cancel`, { method: 'POST' })).status).toBe(409);
    await server.runtime.broadcastSender.runUntilIdle();
    for (let i = 0; i < 5; i++) expect(textsTo(`74${i}`)).toEqual([]);
    const progress = (await (await api(`/api/broadcasts/${id}`)).json()) as { status: string; totals: Record<string, number> };
    expect(progress).toMatchObject({ status: 'cancelled', totals: { cancelled: 5 } });
  });

  it('with two senders claiming side by side and one dying mid-send, nobody gets a message twice and the rest still go out', async () => {
    for (let i = 0; i < 40; i++) await subscribe('telegram', `75${String(i).padStart(2, '0')}`, 'nam-luc');
    const { id } = (await (await api('/api/broadcasts', { method: 'POST', body: JSON.stringify({ communes: ['nam-luc'], text: { vi: 'Hai người gửi cùng lúc.' } }) })).json()) as { id: number };
    // A "process" claims 5 deliveries (with a 1 ms lease), starts sending 2 of them and dies: the platform may or
    // may not have received those 2, so they are never sent again; the 3 it had not started go out after its lease.
    const dead = await repo().claimDeliveries('telegram', new Date(), 5, 1);
    expect(dead).toHaveLength(5);
    expect(await repo().markSendingAll([dead[0]!, dead[1]!])).toEqual(new Set([deliveryKey(dead[0]!), deliveryKey(dead[1]!)]));
    await new Promise((r) => setTimeout(r, 5));
    // Two live senders share the rest.
    await Promise.all([server.runtime.broadcastSender.runUntilIdle(), server.runtime.broadcastSender.runUntilIdle()]);
    await server.runtime.broadcastSender.runUntilIdle();
    // A claim that expired cannot be used to send any more.
    expect(await repo().markSending(dead[2]!)).toBe(false);
    expect(await repo().markSendingAll([dead[3]!, dead[4]!])).toEqual(new Set());
    const perChat = new Map<string, number>();
    for (const c of bot.callsOf('sendMessage')) {
      const chat = String(c.payload.chat_id);
      if (chat.startsWith('75') && String(c.payload.text).includes('Hai người gửi cùng lúc.')) perChat.set(chat, (perChat.get(chat) ?? 0) + 1);
    }
    expect([...perChat.values()].every((n) => n === 1)).toBe(true);
    expect(perChat.size).toBe(38);
    const progress = (await (await api(`/api/broadcasts/${id}`)).json()) as { status: string; totals: Record<string, number> };
    expect(progress).toMatchObject({ status: 'done', totals: { sent: 38, unknown: 2 } });
  });
});
