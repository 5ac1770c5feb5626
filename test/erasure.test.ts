import type { FakeBotApi } from './support/fakeBotApi';
import { PipelineCitizen } from './support/citizens';
import { startTelegramServer, type TelegramTestServer } from './support/telegramServer';

const TOKEN = '123456789:AAF1x-erasure-test-token-abcdefghi';
const DISTRICT = -1002000000200;

/**
 * A column that holds who a person is. Tables with such a column must be covered by an eraser ("delete my data")
 * and by a retention rule; this list is matched against the database's own schema, so that a table added later by
 * any migration is caught.
 */
const PERSONAL_COLUMN = /(^|_)(user_id|recipient|phone|official_id|official_name|full_name)$/;

let now = Date.UTC(2021, 6, 15, 1, 0, 0);

describe('"delete my data" deletes everything, and retention covers every table with personal data', () => {
  let t: TelegramTestServer;
  let bot: FakeBotApi;
  let server: TelegramTestServer['server'];
  const q = <R = Record<string, unknown>>(sql: string, params: unknown[] = []) => server.runtime.db.query<R>(sql, params);
  const count = async (sql: string, params: unknown[] = []) => Number((await q<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) t`, params))[0]!.n);
  const dispatch = async () => {
    await server.runtime.dispatcher.settle();
    await server.runtime.dispatcher.runUntilIdle();
    await server.runtime.dispatcher.settle();
  };

  beforeAll(async () => {
    t = await startTelegramServer({ token: TOKEN, secret: 'erasure_secret', env: { OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT), REDIS_URL: undefined }, clock: () => now });
    ({ bot, server } = t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every table with a personal column (read from the database schema) has an eraser and a retention rule', async () => {
    const columns = await q<{ table_name: string; column_name: string }>(
      `SELECT c.table_name, c.column_name FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`,
    );
    const personal = [...new Set(columns.filter((c) => PERSONAL_COLUMN.test(c.column_name)).map((c) => c.table_name))].sort();
    expect(personal).toEqual(expect.arrayContaining(['records', 'notices', 'deliveries', 'subscriptions', 'app_installs']));
    const { erased, retained } = server.runtime.personalData.coverage();
    expect(personal.filter((t) => !erased.has(t)).map((t) => `${t}: no eraser`)).toEqual([]);
    expect(personal.filter((t) => !retained.has(t)).map((t) => `${t}: no retention rule`)).toEqual([]);
  });

  it('erases records, notices, delivery rows, subscriptions, campaign marks and the session, and redacts posted notices', async () => {
    const r = server.runtime;
    const c = new PipelineCitizen(r, '940001');
    const other = new PipelineCitizen(r, '940002');
    for (const person of [c, other]) {
      await person.start();
      await person.say('1');
      await person.say('ban pho');
      await person.say('1'); // announcements: yes
      await person.reportSymptoms();
      await r.campaign.recordInstall({ channel: 'telegram', userId: person.userId, commune: 'ban-pho', at: now, eventId: `install-${person.userId}` });
    }
    const anonymous = await c.reportEntrant({ anonymous: true });
    await r.broadcasts.create({ topic: 'news', textVi: 'Tiêm vắc-xin sáng mai.', textEn: null, communes: ['ban-pho'], createdBy: 'test', originChatId: null });
    await dispatch();

    const mine = ['SELECT 1 FROM records WHERE user_id = $1', 'SELECT 1 FROM deliveries WHERE user_id = $1', 'SELECT 1 FROM subscriptions WHERE user_id = $1', 'SELECT 1 FROM app_installs WHERE user_id = $1'];
    const rowsOf = (userId: string) => Promise.all(mine.map((sql) => count(sql, [userId])));
    expect((await rowsOf(c.userId)).every((n) => n > 0)).toBe(true);
    const anonymousRows = await count(`SELECT 1 FROM records WHERE user_id LIKE 'anon:%'`);
    expect(anonymousRows).toBe(1);

    const postedIds = async (where: string, params: unknown[]) =>
      (await q<{ ids: string[] }>(`SELECT n.sent_message_ids AS ids FROM notices n JOIN records r ON r.id = n.record_id WHERE n.recipient = r.notice_chat_id AND ${where}`, params)).flatMap((row) => row.ids.map(Number));
    const minePosted = [...(await postedIds('r.user_id = $1', [c.userId])), ...(await postedIds(`r.reference = $1`, [anonymous]))];
    const othersPosted = await postedIds('r.user_id = $1', [other.userId]);
    expect(minePosted).toHaveLength(2);

    await c.say('xoa du lieu');
    await c.say('1');
    expect(await rowsOf(c.userId)).toEqual([0, 0, 0, 0]);
    expect(await count(`SELECT 1 FROM records WHERE user_id LIKE 'anon:%'`)).toBe(0);
    expect(await count('SELECT 1 FROM notices WHERE recipient = $1', [c.userId])).toBe(0);
    expect((await rowsOf(other.userId)).every((n) => n > 0)).toBe(true);

    // The copies posted in the officials' group are edited to a redacted text, their buttons removed.
    await dispatch();
    const edits = bot.callsOf('editMessageText', DISTRICT);
    expect(edits.map((e) => Number(e.payload.message_id)).sort()).toEqual(minePosted.sort());
    for (const e of edits) expect(String(e.payload.text)).toContain('người dân xoá');
    for (const id of othersPosted) expect(edits.map((e) => Number(e.payload.message_id))).not.toContain(id);
    expect(await count('SELECT 1 FROM notices WHERE redact_text IS NOT NULL')).toBe(0);

    // From outside the conversation (Zalo's user_withdraw path): the session goes too.
    expect(await r.store.peek(`telegram:${c.userId}`)).not.toBeNull();
    await r.personalData.eraseUser('telegram', c.userId);
    expect(await r.store.peek(`telegram:${c.userId}`)).toBeNull();
  });

  it('retention deletes expired rows of every personal table, and keeps the rest', async () => {
    const r = server.runtime;
    const p = new PipelineCitizen(r, '940003');
    await p.start();
    await p.say('1');
    await p.say('ban pho');
    await p.say('1');
    await p.reportSymptoms();
    await r.campaign.recordInstall({ channel: 'telegram', userId: p.userId, commune: 'ban-pho', at: now, eventId: 'install-p' });
    await r.broadcasts.create({ topic: 'news', textVi: 'Thông báo cũ của xã.', textEn: null, communes: ['ban-pho'], createdBy: 'test', originChatId: null });
    await dispatch();
    await q(`UPDATE subscriptions SET active = false WHERE user_id = $1`, [p.userId]);
    const tables = ['records', 'notices', 'deliveries', 'subscriptions', 'app_installs'];
    const rows = async () => Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(`SELECT 1 FROM ${t}`)] as const)));
    const before = await rows();
    for (const t of tables) expect(before[t]).toBeGreaterThan(0);
    const installs = (await r.campaign.countInstalls())['ban-pho'];

    now += 91 * 86_400_000;
    await r.records.purgeExpired(new Date(now));
    const after = await rows();
    expect(after).toEqual({ records: 0, notices: 0, deliveries: 0, subscriptions: 1, app_installs: 0 });
    // The still active subscription stays (the person still wants the announcements); the figure keeps its count.
    expect((await r.campaign.countInstalls())['ban-pho']).toBe(installs);
  });
});
