import { cleanText } from '../src/safety/cleanText';
import type { FakeBotApi } from './support/fakeBotApi';
import { startTelegramServer, type TelegramTestServer } from './support/telegramServer';
import { callbackUpdate } from './support/telegramUpdates';

const TOKEN = '123456789:AAF1x-badinput-test-token-abcdefgh';
const SECRET = 'bad_input_test_secret';
const DISTRICT_GROUP = -1002000000077;
const ADMIN_TOKEN = 'admin-token-for-bad-input-tests';

describe('cleanText', () => {
  it('removes NUL, control characters and lone surrogates, and keeps emoji, tabs and line breaks', () => {
    expect(cleanText('Nguy\u0000ễn\u0007 Văn')).toBe('Nguyễn Văn');
    expect(cleanText('a\ud800b\udc00c')).toBe('abc');
    expect(cleanText('😀 ok\tthen\nnext')).toBe('😀 ok\tthen\nnext');
  });
});

describe('bad input never gets a 5xx, and pages send security headers', () => {
  let t: TelegramTestServer;
  let bot: FakeBotApi;
  let server: TelegramTestServer['server'];

  beforeAll(async () => {
    t = await startTelegramServer({ token: TOKEN, secret: SECRET, env: { OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT_GROUP), ADMIN_TOKEN } });
    ({ bot, server } = t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const deliver = async (update: unknown) => (await t.post(update)).status;
  const say = (chat: number, text: string) => t.say(chat, text);

  it('a NUL byte or a lone surrogate in an answer is removed when it arrives, and the report is stored', async () => {
    const chat = 720001;
    await say(chat, '/start');
    await say(chat, '1');
    await say(chat, 'ban pho');
    await say(chat, '2');
    await say(chat, '/start symptoms');
    await say(chat, '1');
    await say(chat, '4');
    await say(chat, '0912\u0000345678');
    await say(chat, '1');
    const summary = await say(chat, 'Thôn\u0000 Na\ud800 Lang\udfff');
    expect(summary).toContain('Thôn Na Lang');
    expect(await say(chat, '1')).toMatch(/TC-\d{6}-\d{4}/);
    const [row] = await server.runtime.db.query<{ data: { address: string; phone: string } }>('SELECT data FROM records WHERE user_id = $1', [String(chat)]);
    expect(row!.data.address).toBe('Thôn Na Lang');
  });

  it('a button with an impossible record number gets a short answer, not a 5xx and a redelivery loop', async () => {
    const update = callbackUpdate(DISTRICT_GROUP, 'rec:ack:9999999999', undefined, 'group', 555);
    expect(await deliver(update)).toBe(200);
    await bot.waitFor(() => bot.callsOf('answerCallbackQuery').some((c) => c.payload.callback_query_id === update.callback_query.id && String(c.payload.text).length > 0));
  });

  it('a foreign group gets the same answer whether the record exists or not', async () => {
    const [record] = await server.runtime.db.query<{ id: number }>('SELECT id FROM records ORDER BY id DESC LIMIT 1');
    const answerTo = async (data: string) => {
      const update = callbackUpdate(-1009999, data, undefined, 'group', 556);
      expect(await deliver(update)).toBe(200);
      await bot.waitFor(() => bot.callsOf('answerCallbackQuery').some((c) => c.payload.callback_query_id === update.callback_query.id));
      return bot.callsOf('answerCallbackQuery').find((c) => c.payload.callback_query_id === update.callback_query.id)!.payload.text;
    };
    const existing = await answerTo(`rec:ack:${record!.id}`);
    const missing = await answerTo(`rec:ack:${record!.id + 1000}`);
    expect(existing).toBe(missing);
  });

  it('GET /api/broadcasts/abc (or an id out of range) is 404, not 500', async () => {
    for (const id of ['abc', '99999999999', '1e3', '-1']) {
      const res = await fetch(`${server.url}/api/broadcasts/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(404);
    }
    const cancel = await fetch(`${server.url}/api/broadcasts/abc/cancel`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(cancel.status).toBeLessThan(500);
  });

  it('the web chat page and the API send a CSP without inline script, X-Frame-Options DENY and no referrer', async () => {
    for (const path of ['/', '/chat.js', '/healthz', '/api/web/prompt']) {
      const res = await fetch(`${server.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    const html = await (await fetch(`${server.url}/`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });
});
