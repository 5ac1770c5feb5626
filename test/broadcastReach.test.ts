import { ConfigError, loadConfig } from '../src/config';
import { AnnouncementBox } from '../src/broadcasts/AnnouncementBox';
import { FakeBotApi } from './support/fakeBotApi';
import { FakeZalo, postZaloEvent, zaloEnv, zaloEvents } from './support/fakeZalo';
import { startServer, testRedisUrl, uniquePrefix, WebUser } from './support/harness';
import { textUpdate } from './support/telegramUpdates';

const TOKEN = '123456789:AAF1x-reach-test-token-abcdefghij';
const SECRET = 'reach_test_secret';
const ADMIN = 'admin-token-for-reach-0123456789';
const INITIAL = { accessToken: 'acc-reach-1', refreshToken: 'ref-reach-1' };
const TEMPLATE_ID = '318562';

/**
 * Announcements that reach everyone: urgent ones at least once across a sender's death, senders that resume in
 * seconds, and Zalo followers outside the 7-day window reached by a template message, an OA article or their box.
 */
describe('announcements beyond the window and across crashes', () => {
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
      ...zaloEnv(zalo, INITIAL, {
        ZALO_TEMPLATE_ID: TEMPLATE_ID,
        ZALO_TEMPLATE_API_ROOT: zalo.templateRoot,
        ZALO_ARTICLE_CITIES: '5',
        ZALO_ARTICLE_COVER_URL: 'https://bacha.laocai.gov.vn/cover.jpg',
      }),
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix(),
      ADMIN_TOKEN: ADMIN,
      TELEGRAM_BROADCAST_RATE: '200',
    });
  });
  afterAll(async () => {
    await server.close();
    await bot.close();
    await zalo.stop();
  });
  beforeEach(() => {
    zalo.zbs.approved = new Set([TEMPLATE_ID]);
    zalo.zbs.quota = Infinity;
    zalo.zbs.night = false;
    zalo.oaBroadcast.quota = Infinity;
    zalo.oaBroadcast.night = false;
  });

  const repo = () => server.runtime.broadcasts.repo;
  const sender = () => server.runtime.broadcastSender;
  const subscribe = (channel: 'telegram' | 'zalo' | 'web', userId: string, commune: string) => repo().subscribe({ channel, userId, commune, locale: 'vi', urgent: true, news: true }, now());
  const phoneOf = (userId: string, phone: string) => server.runtime.db.query(`INSERT INTO zalo_shared_phones (user_id, phone, shared_at) VALUES ($1, $2, now())`, [userId, phone]);
  async function announce(communes: string[] | 'all', topic: 'urgent' | 'news', vi: string): Promise<number> {
    const res = await fetch(`${server.url}/api/broadcasts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ communes, topic, text: { vi } }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: number }).id;
  }
  async function totals(id: number): Promise<Record<string, number>> {
    await sender().runUntilIdle();
    await sender().runUntilIdle();
    return ((await (await fetch(`${server.url}/api/broadcasts/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { totals: Record<string, number> }).totals;
  }
  const tgTexts = (chat: string) => bot.callsOf('sendMessage', chat).map((c) => String(c.payload.text));

  describe('a sender that dies mid-broadcast', () => {
    /** A "process" claims 5 rows with a long lease, starts 2 of them, and dies: its heartbeat stops. */
    async function dieMidBroadcast(commune: string, topic: 'urgent' | 'news', text: string) {
      for (let i = 0; i < 5; i++) await subscribe('telegram', `${commune.length}${topic.length}0${i}`, commune);
      const id = await announce([commune], topic, text);
      await repo().heartbeat('dead-sender', new Date(Date.now() + 60_000));
      const claimed = await repo().claimDeliveries('telegram', now(), 5, 60_000, 'dead-sender');
      expect(claimed).toHaveLength(5);
      expect(await repo().markSending(claimed[0]!)).toBe(true);
      expect(await repo().markSending(claimed[1]!)).toBe(true);
      // While its heartbeat holds, its rows are its own: nobody else sends them.
      await sender().sendBatch({ channel: 'telegram', limiter: { reserve: async () => 0, reserveMany: async (n: number) => new Array<number>(n).fill(0), penalize: async () => undefined } as never, concurrency: 10 });
      expect(bot.callsOf('sendMessage').filter((c) => String(c.payload.text).includes(text))).toHaveLength(0);
      // It dies: its heartbeat lapses (4 s after its last beat by default), long before the 60 s lease.
      await repo().heartbeat('dead-sender', new Date(Date.now() - 1));
      return { id, claimed };
    }

    it('takes over the rows of a dead sender within its heartbeat, not after the lease; a general announcement stays at most once', async () => {
      const text = 'Tin chung: lịch họp dân.';
      const { id, claimed } = await dieMidBroadcast('ban-cai', 'news', text);
      expect(await totals(id)).toEqual({ sent: 3, unknown: 2 });
      const started = new Set([claimed[0]!.userId, claimed[1]!.userId]);
      for (const c of claimed) expect(tgTexts(c.userId).filter((t) => t.includes(text))).toHaveLength(started.has(c.userId) ? 0 : 1);
    });

    it('sends an urgent announcement lost in flight again (at least once) and counts it as resent', async () => {
      const text = 'KHẨN: phong toả từ 18h hôm nay.';
      const { id, claimed } = await dieMidBroadcast('ban-lien', 'urgent', text);
      expect(await totals(id)).toEqual({ sent: 5, resent: 2 });
      for (const c of claimed) expect(tgTexts(c.userId).filter((t) => t.includes(text))).toHaveLength(1);
      // The final report says so.
      const b = (await repo().findBroadcast(id))!;
      expect(await server.runtime.broadcasts.reportText(b, true)).toContain('gửi lại sau sự cố 2');
    });

    it('a sender that stops cleanly frees what it claimed at once', async () => {
      for (let i = 0; i < 3; i++) await subscribe('telegram', `93${i}`, 'ban-pho');
      const id = await announce(['ban-pho'], 'news', 'Dừng sạch sẽ.');
      await repo().heartbeat('leaving-sender', new Date(Date.now() + 60_000));
      expect(await repo().claimDeliveries('telegram', now(), 3, 60_000, 'leaving-sender')).toHaveLength(3);
      await repo().retireSender('leaving-sender', now());
      expect(await totals(id)).toEqual({ sent: 3 });
    });
  });

  describe('Zalo followers outside the 7-day window', () => {
    it('urgent: a template message to the shared phone, else the box; an invalid phone falls back to the box', async () => {
      const [inside, withPhone, noPhone, badPhone] = ['8101', '8102', '8103', '8104'];
      for (const u of [inside, withPhone, noPhone, badPhone]) await subscribe('zalo', u, 'bao-nhai');
      for (const u of [withPhone, noPhone, badPhone]) zalo.outsideWindow.add(u);
      await phoneOf(withPhone, '0912345678');
      await phoneOf(badPhone, '12345');
      const id = await announce(['bao-nhai'], 'urgent', 'KHẨN: tạm dừng chợ phiên.');
      expect(await totals(id)).toEqual({ sent: 1, template: 1, boxed: 2 });
      expect(zalo.textsTo(inside)).toEqual([expect.stringContaining('KHẨN: tạm dừng chợ phiên.')]);
      expect(zalo.templates).toEqual([expect.objectContaining({ phone: '84912345678', templateId: TEMPLATE_ID, data: { content: 'KHẨN: tạm dừng chợ phiên.' } })]);
      expect(zalo.apiCalls.filter((c) => c.path === '/zbs/message/template').map((c) => c.error)).toEqual([0, -108]);
    });

    it.each([
      ['the template is not approved', () => (zalo.zbs.approved = new Set()), -131, 'coc-lau'],
      ['it is night time (22:00–06:00)', () => (zalo.zbs.night = true), -133, 'coc-ly'],
      ['the quota is used up', () => (zalo.zbs.quota = 0), -144, 'lung-cai'],
    ])('urgent, when %s: one refused call closes the path and everyone waits in their box', async (_what, arrange, code, commune) => {
      arrange();
      const users = [`82${code}1`, `82${code}2`, `82${code}3`];
      for (const u of users) {
        await subscribe('zalo', u, commune);
        zalo.outsideWindow.add(u);
        await phoneOf(u, '0987654321');
      }
      const calls = zalo.apiCalls.length;
      const id = await announce([commune], 'urgent', `KHẨN ${code}: mưa lũ.`);
      expect(await totals(id)).toEqual({ boxed: 3 });
      const templateCalls = zalo.apiCalls.slice(calls).filter((c) => c.path === '/zbs/message/template');
      // The deliveries run side by side, so a few may have been under way when the first refusal came back.
      expect(templateCalls.length).toBeGreaterThanOrEqual(1);
      expect(templateCalls.every((c) => c.error === code)).toBe(true);
      expect(zalo.templates.filter((t) => t.data.content === `KHẨN ${code}: mưa lũ.`)).toEqual([]);
    });

    it('general, district-wide: one OA article broadcast for everyone outside the window, counted per recipient', async () => {
      const users = ['8301', '8302', '8303'];
      for (const u of users) {
        await subscribe('zalo', u, 'na-hoi');
        zalo.outsideWindow.add(u);
      }
      const before = zalo.articleBroadcasts.length;
      const id = await announce('all', 'news', 'Tiêm chủng mũi 3 tại trạm y tế xã.\nMang theo căn cước.');
      await totals(id);
      // Everyone outside the window (these three and those of earlier tests) is counted under the article.
      const rows = await server.runtime.db.query<{ user_id: string; status: string }>(`SELECT user_id, status FROM deliveries WHERE broadcast_id = $1 AND channel = 'zalo'`, [id]);
      expect(rows.filter((r) => users.includes(r.user_id)).map((r) => r.status)).toEqual(['article', 'article', 'article']);
      expect(rows.every((r) => (zalo.outsideWindow.has(r.user_id) ? r.status === 'article' : r.status === 'sent'))).toBe(true);
      expect(zalo.articleBroadcasts.length - before).toBe(1);
      const article = zalo.articles.find((a) => a.id === zalo.articleBroadcasts.at(-1)!.articleId)!;
      expect(article.body).toEqual([
        { type: 'text', content: 'Tiêm chủng mũi 3 tại trạm y tế xã.' },
        { type: 'text', content: 'Mang theo căn cước.' },
      ]);
      expect(zalo.articleBroadcasts.at(-1)!.target).toEqual({ cities: '5' });
    });

    it.each([
      ['the broadcast quota is used up', () => (zalo.oaBroadcast.quota = 0)],
      ['it is night time', () => (zalo.oaBroadcast.night = true)],
    ])('general, when %s: the article is not broadcast and everyone waits in their box', async (_what, arrange) => {
      arrange();
      const users = ['8401', '8402'].map((u) => `${u}${zalo.articles.length}`);
      for (const u of users) {
        await subscribe('zalo', u, 'nam-det');
        zalo.outsideWindow.add(u);
      }
      const before = zalo.articleBroadcasts.length;
      const id = await announce('all', 'news', 'Lịch thu gom rác mới.');
      const t = await totals(id);
      expect(t.boxed).toBeGreaterThanOrEqual(2);
      expect(t.article).toBeUndefined();
      expect(zalo.articleBroadcasts.length).toBe(before);
    });

    it('a general announcement to some communes only is never an article (it would reach the whole province): box', async () => {
      await subscribe('zalo', '8501', 'ta-chai');
      zalo.outsideWindow.add('8501');
      const before = zalo.articles.length;
      const id = await announce(['ta-chai'], 'news', 'Chỉ cho xã Tả Chải.');
      expect(await totals(id)).toEqual({ boxed: 1 });
      expect(zalo.articles.length).toBe(before);
    });
  });

  describe('the "new announcements" box', () => {
    it('is shown at the top of the next conversation, newest first, once each; a redelivered event shows it again, a new one does not', async () => {
      const user = '8601';
      await subscribe('zalo', user, 'lung-phinh');
      zalo.outsideWindow.add(user);
      const first = await announce(['lung-phinh'], 'news', 'Thông báo thứ nhất.');
      const second = await announce(['lung-phinh'], 'urgent', 'Thông báo thứ hai.');
      expect(await totals(first)).toEqual({ boxed: 1 });
      expect(await totals(second)).toEqual({ boxed: 1 });

      // They write to the OA: the window opens again, and the box comes first.
      zalo.outsideWindow.delete(user);
      const event = zaloEvents.text(user, 'xin chào');
      expect((await postZaloEvent(server.url, event)).status).toBe(200);
      const texts = await zalo.waitForMessages(user, 3);
      expect(texts[0]).toBe('📬 Có 2 thông báo mới của xã:');
      expect(texts[1]).toContain('Thông báo thứ hai.');
      expect(texts[2]).toContain('Thông báo thứ nhất.');
      const count = zalo.textsTo(user).length;

      // The same event again (Zalo redelivers): no second effect.
      expect((await postZaloEvent(server.url, event)).status).toBe(200);
      expect((await postZaloEvent(server.url, zaloEvents.text(user, 'menu'))).status).toBe(200);
      await zalo.waitForMessages(user, count + 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(zalo.textsTo(user).filter((t) => t.includes('Thông báo thứ nhất.'))).toHaveLength(1);
      expect(zalo.textsTo(user).filter((t) => t.includes('thông báo mới'))).toHaveLength(1);
    });

    it('keeps what a Telegram user missed while they had blocked the bot, and shows it when they come back', async () => {
      const chat = 8701;
      await subscribe('telegram', String(chat), 'ta-van-chu');
      bot.fail('sendMessage', { status: 403, description: 'Forbidden: bot was blocked by the user' }, { match: (p) => String(p.chat_id) === String(chat) });
      const during = await announce(['ta-van-chu'], 'urgent', 'KHẨN: đường bị sạt lở.');
      expect(await totals(during)).toEqual({ unreachable: 1 });
      // Blocked now: the next announcement is not even tried, it waits in the box.
      const after = await announce(['ta-van-chu'], 'news', 'Đường đã thông.');
      expect(await totals(after)).toEqual({ boxed: 1 });
      // They unblock the bot and write.
      const res = await fetch(`${server.url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(textUpdate(chat, '/start')) });
      expect(res.status).toBe(200);
      await bot.waitFor(() => tgTexts(String(chat)).some((t) => t.includes('Đường đã thông.')));
      // Telegram joins consecutive texts into one message: the box, newest first.
      const box = tgTexts(String(chat)).find((t) => t.includes('2 thông báo mới'))!;
      expect(box.indexOf('Đường đã thông.')).toBeGreaterThan(box.indexOf('2 thông báo mới'));
      expect(box.indexOf('KHẨN: đường bị sạt lở.')).toBeGreaterThan(box.indexOf('Đường đã thông.'));
    });

    it('serves the web chat, which cannot push: the page learns on opening that announcements wait, and the next event shows them', async () => {
      // A returning visitor (the server issued their identity cookie with their first event).
      const visitor = new WebUser(server.url);
      await visitor.start();
      await subscribe('web', visitor.userId, 'nam-khanh');
      const waiting = async () => ((await (await fetch(`${server.url}/api/web/prompt`, { headers: { cookie: visitor.cookie! } })).json()) as { announcements: number }).announcements;
      expect(await waiting()).toBe(0);
      const id = await announce(['nam-khanh'], 'news', 'Thông báo cho người dùng web.');
      expect(await totals(id)).toEqual({ boxed: 1 });
      // Opening the page only counts them (twice: still there).
      expect(await waiting()).toBe(1);
      expect(await waiting()).toBe(1);
      const { json } = await visitor.post({ eventId: visitor.nextEventId(), type: 'start' });
      const replies = (json.replies ?? []) as Array<{ text?: string }>;
      expect(replies[0]!.text).toContain('1 thông báo mới');
      expect(replies[1]!.text).toContain('Thông báo cho người dùng web.');
      expect(await waiting()).toBe(0);
    });

    it('is emptied by retention: shown entries after a day, waiting ones after 30 days', async () => {
      await subscribe('telegram', '8901', 'tt-bac-ha');
      const id = await announce(['tt-bac-ha'], 'news', 'Thông báo cũ.');
      const box = new AnnouncementBox(server.runtime.db);
      const old = new Date(Date.now() - 31 * 86_400_000);
      await server.runtime.db.query(`INSERT INTO announcement_box (channel, user_id, broadcast_id, added_at) VALUES ('telegram', '8902', $1, $2), ('telegram', '8903', $1, now())`, [id, old.toISOString()]);
      await server.runtime.db.query(`INSERT INTO announcement_box (channel, user_id, broadcast_id, added_at, shown_at, shown_event) VALUES ('telegram', '8904', $1, now(), $2, 'e1')`, [id, new Date(Date.now() - 2 * 86_400_000).toISOString()]);
      expect(await box.purgeExpired(new Date())).toBe(2);
      const left = await server.runtime.db.query<{ user_id: string }>(`SELECT user_id FROM announcement_box WHERE broadcast_id = $1 ORDER BY user_id`, [id]);
      expect(left.map((r) => r.user_id)).toEqual(['8903']);
    });

    it('is erased with the person', async () => {
      await subscribe('zalo', '8801', 'hoang-thu-pho');
      zalo.outsideWindow.add('8801');
      await phoneOf('8801', '0911111111');
      await totals(await announce(['hoang-thu-pho'], 'news', 'Sẽ bị xoá.'));
      const left = async () =>
        Number((await server.runtime.db.query<{ n: number }>(`SELECT (SELECT count(*) FROM announcement_box WHERE user_id = '8801') + (SELECT count(*) FROM zalo_shared_phones WHERE user_id = '8801') AS n`))[0]!.n);
      expect(await left()).toBe(2);
      expect((await postZaloEvent(server.url, zaloEvents.withdraw('8801'))).status).toBe(200);
      expect(await left()).toBe(0);
    });
  });

  it('refuses an article path without a cover image at start-up, naming the variable', () => {
    let problems: string[] = [];
    try {
      loadConfig({ ZALO_APP_ID: '3349222483842580322', ZALO_OA_SECRET_KEY: 'oa-secret-12345678', ZALO_ACCESS_TOKEN: 'acc-12345678', ZALO_ARTICLE_CITIES: '5' });
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^ZALO_ARTICLE_COVER_URL: required with ZALO_ARTICLE_CITIES/)]);
  });
});
