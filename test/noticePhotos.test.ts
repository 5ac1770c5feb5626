import { PipelineCitizen, referenceIn } from './support/citizens';
import type { FakeBotApi, RecordedCall } from './support/fakeBotApi';
import { WebUser } from './support/harness';
import { startTelegramServer, type TelegramTestServer } from './support/telegramServer';

const TOKEN = '123456789:AAF1x-photos-test-token-abcdefgh';
const DISTRICT_GROUP = -1002000000077;
/** A 1×1 PNG (the web chat checks the first bytes). */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** The officials see the photo a citizen attached to a report, whichever channel the citizen used. */
describe("a report's photo in the officials' Telegram group", () => {
  let t: TelegramTestServer;
  let bot: FakeBotApi;
  let server: TelegramTestServer['server'];

  beforeAll(async () => {
    t = await startTelegramServer({ token: TOKEN, secret: 'photos_test_secret', env: { OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT_GROUP) } });
    ({ bot, server } = t);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The group's calls about one report, in the order they were made. */
  const groupCallsOf = (reference: string) =>
    bot.calls.filter((c) => String(c.payload.chat_id) === String(DISTRICT_GROUP) && !c.failed && JSON.stringify(c.payload).includes(reference));
  const uploadedBytes = (call: RecordedCall): Buffer[] => Object.values((call.payload.files ?? {}) as Record<string, { bytes: Buffer }>).map((f) => f.bytes);

  /** A web-chat report of people back from an outbreak area, with a photo sent from the page; anonymous. */
  async function webReportWithPhoto(): Promise<{ reference: string; photoId: number }> {
    const u = new WebUser(server.url);
    await u.start();
    await u.say('1');
    expect(await u.say('ban pho')).toContain('Anh/Chị cần gì?');
    await u.send({ type: 'start', payload: 'report' });
    for (const answer of ['1', 'Thôn Sín Chải', 'bo qua', '1', '2 người từ vùng dịch về']) await u.say(answer);
    const res = await fetch(`${server.url}/api/web/photo?eventId=${u.nextEventId()}`, { method: 'POST', headers: { cookie: u.cookie!, 'content-type': 'image/png' }, body: PNG });
    expect(res.status).toBe(200);
    const [photo] = await server.runtime.db.query<{ id: number }>('SELECT id FROM web_photos ORDER BY id DESC LIMIT 1');
    await u.say('1'); // anonymous
    const reference = referenceIn(await u.say('1'));
    return { reference, photoId: photo!.id };
  }

  it('a web-chat report: the notice (text and buttons) and then the photo, uploaded from the database', async () => {
    const { reference } = await webReportWithPhoto();
    await server.runtime.dispatcher.runUntilIdle();
    const calls = groupCallsOf(reference);
    expect(calls.map((c) => c.method)).toEqual(['sendMessage', 'sendPhoto']);
    expect(calls[0]!.payload.reply_markup.inline_keyboard.flat().length).toBe(2);
    expect(calls[1]!.payload.caption).toBe(reference);
    expect(uploadedBytes(calls[1]!)).toEqual([PNG]);
  }, 30_000);

  it('a Zalo report: the photo goes by its https address, which Telegram fetches', async () => {
    const zaloPhoto = 'https://photo-stal.zdn.vn/oa/1a2b3c4d5e.jpg';
    const citizen = new PipelineCitizen(server.runtime, '4455667788990011', 'zalo');
    await citizen.onboard();
    const reference = await citizen.reportEntrant({ anonymous: true, photo: zaloPhoto });
    await server.runtime.dispatcher.runUntilIdle();
    const calls = groupCallsOf(reference);
    expect(calls.map((c) => c.method)).toEqual(['sendMessage', 'sendPhoto']);
    expect(calls[1]!.payload.photo).toBe(zaloPhoto);
    expect(uploadedBytes(calls[1]!)).toEqual([]);
  }, 30_000);

  it('a web photo Telegram refuses never holds the notice back: a line says it could not be sent', async () => {
    bot.fail('sendPhoto', { status: 400, description: 'Bad Request: IMAGE_PROCESS_FAILED' }, { times: 1, match: (p) => String(p.chat_id) === String(DISTRICT_GROUP) });
    const { reference } = await webReportWithPhoto();
    await server.runtime.dispatcher.runUntilIdle();
    // The photo was tried (uploaded) after the text and buttons; then the notice went again with a line instead.
    const refused = bot.calls.filter((c) => c.failed && c.method === 'sendPhoto' && c.payload.caption === reference);
    expect(refused.map(uploadedBytes)).toEqual([[PNG]]);
    const calls = groupCallsOf(reference);
    expect(calls[0]!.method).toBe('sendMessage');
    expect(bot.calls.indexOf(calls[0]!)).toBeLessThan(bot.calls.indexOf(refused[0]!));
    expect(calls.filter((c) => c.method === 'sendPhoto')).toEqual([]);
    expect(String(calls.at(-1)!.payload.text)).toBe(`📷 Ảnh của báo cáo ${reference} không gửi được.`);
  }, 30_000);

  it('a notice queued before its web photo was erased goes out without the photo, saying so', async () => {
    // A long rate limit: the notice is not sent now and waits for its next attempt.
    bot.fail('sendMessage', { status: 429, description: 'Too Many Requests: retry after 300', parameters: { retry_after: 300 } }, { times: 1, match: (p) => String(p.chat_id) === String(DISTRICT_GROUP) });
    const { reference, photoId } = await webReportWithPhoto();
    await server.runtime.dispatcher.runUntilIdle();
    expect(groupCallsOf(reference)).toEqual([]);
    expect(bot.calls.filter((c) => c.failed && JSON.stringify(c.payload).includes(reference))).toHaveLength(1);
    // The photo is gone (erased with its sender's data) while the notice still waits.
    await server.runtime.db.query('DELETE FROM web_photos WHERE id = $1', [photoId]);
    bot.clearFailures();
    await server.runtime.db.query('UPDATE notices SET next_attempt_at = now() WHERE sent_at IS NULL');
    await server.runtime.dispatcher.runUntilIdle();
    const calls = groupCallsOf(reference);
    expect(calls.map((c) => c.method)).toEqual(['sendMessage', 'sendMessage']);
    expect(String(calls[1]!.payload.text)).toBe(`📷 Ảnh của báo cáo ${reference} không gửi được.`);
    expect(bot.callsOf('sendPhoto', DISTRICT_GROUP).filter((c) => String(c.payload.caption) === reference)).toEqual([]);
  }, 30_000);
});
