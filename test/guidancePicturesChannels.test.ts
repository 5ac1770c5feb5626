import { PNG } from 'pngjs';
import type { WebReply } from '../src/channels/web/webChannel';
import { FakeBotApi } from './support/fakeBotApi';
import { FakeZalo, newUserId, postZaloEvent, zaloEnv, zaloEvents } from './support/fakeZalo';
import { startServer, WebUser } from './support/harness';
import { textUpdate } from './support/telegramUpdates';

const TOKEN = '123456789:AAF1x-pictures-test-token-abcdefg';
const SECRET = 'pictures_test_secret';
const INITIAL = { accessToken: 'acc-pictures-1', refreshToken: 'ref-pictures-1' };

/** The PNG inside a multipart body as the fake received it. */
function pngIn(body: Buffer): PNG {
  const start = body.indexOf(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  const end = body.indexOf(Buffer.from('IEND'), start) + 8;
  return PNG.sync.read(body.subarray(start, end));
}

/** The guidance cards as each channel shows them: a Telegram photo, an uploaded Zalo image, an <img> on the web. */
describe('guidance pictures on every channel', () => {
  let bot: FakeBotApi;
  let zalo: FakeZalo;
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    bot = await FakeBotApi.start(TOKEN);
    zalo = await new FakeZalo(INITIAL).start();
    server = await startServer({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: bot.url, TELEGRAM_WEBHOOK_SECRET: SECRET, ...zaloEnv(zalo, INITIAL), REDIS_URL: '' });
  });
  afterAll(async () => {
    await server.close();
    await bot.close();
    await zalo.stop();
  });

  async function telegramSays(chat: number, text: string): Promise<void> {
    const before = bot.callsOf('sendMessage', chat).length;
    const res = await fetch(`${server.url}/webhooks/telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: JSON.stringify(textUpdate(chat, text)),
    });
    expect(res.status).toBe(200);
    await bot.waitFor(() => bot.callsOf('sendMessage', chat).length > before);
  }

  it('Telegram: the first 5K card is uploaded as a photo, later ones are sent by the file id Telegram gave it', async () => {
    for (const chat of [880001, 880002]) {
      await telegramSays(chat, '/start');
      await telegramSays(chat, '1');
      await telegramSays(chat, 'ban pho');
      await telegramSays(chat, '2');
      await telegramSays(chat, 'quy tac 5k');
    }
    const photos = bot.calls.filter((c) => c.method === 'sendPhoto');
    expect(photos).toHaveLength(2);
    const [upload, reuse] = photos;
    expect(upload!.payload.contentType).toMatch(/^multipart\/form-data/);
    expect(upload!.payload.chat_id).toBe('880001');
    expect(upload!.payload.caption).toBe('Quy tắc 5K');
    const file = Object.values(upload!.payload.files as Record<string, { filename: string; bytes: Buffer }>)[0]!;
    expect(file.filename).toMatch(/^fivek-vi-[0-9a-f]{12}\.png$/);
    expect(PNG.sync.read(file.bytes).width).toBe(800);
    expect(reuse!.payload).toMatchObject({ chat_id: '880002', caption: 'Quy tắc 5K' });
    expect(reuse!.payload.photo).toMatch(/^photo-\d+$/);
    // The photo comes before the 5K text.
    const second = bot.calls.filter((c) => String(c.payload.chat_id) === '880002');
    const at = second.findIndex((c) => c.method === 'sendPhoto');
    expect(String(second[at + 1]!.payload.text)).toContain('Quy tắc 5K:');
  });

  it('Zalo: the card is uploaded once and sent as an image message by its attachment id', async () => {
    const users = [newUserId(), newUserId()];
    for (const user of users) {
      for (const [text, expected] of [
        ['xin chào', 'Tiếng Việt'],
        ['1', 'xã'],
        ['ban pho', 'thông báo'],
        ['2', 'Anh/Chị cần gì?'],
        ['quy tac 5k', 'Anh/Chị muốn xem gì?'],
      ] as const) {
        const n = zalo.textsTo(user).length;
        expect((await postZaloEvent(server.url, zaloEvents.text(user, text))).status).toBe(200);
        for (let i = 0; i < 300 && !zalo.textsTo(user).slice(n).some((t) => t.includes(expected)); i++) await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(zalo.uploads).toHaveLength(1);
    expect(pngIn(zalo.uploads[0]!.body).width).toBe(800);
    for (const user of users) {
      const image = zalo.sent.find((m) => m.userId === user && m.message.attachment);
      expect(image).toBeDefined();
      expect(image!.message.text).toBe('Quy tắc 5K');
      expect(image!.message.attachment).toEqual({ type: 'template', payload: { template_type: 'media', elements: [{ media_type: 'image', attachment_id: zalo.uploads[0]!.attachmentId }] } });
    }
  });

  it('Telegram: a file id Telegram no longer knows is replaced by a new upload', async () => {
    const known = bot.calls.filter((c) => c.method === 'sendPhoto').length;
    bot.fail('sendPhoto', { status: 400, description: 'Bad Request: wrong file identifier/HTTP URL specified' }, { match: (p) => typeof p.photo === 'string' && p.photo.startsWith('photo-') });
    const chat = 880003;
    await telegramSays(chat, '/start');
    await telegramSays(chat, '1');
    await telegramSays(chat, 'ban pho');
    await telegramSays(chat, '2');
    await telegramSays(chat, 'quy tac 5k');
    const photos = bot.calls.filter((c) => c.method === 'sendPhoto').slice(known);
    expect(photos.map((c) => (c.failed ? 'refused' : c.payload.contentType ? 'upload' : 'file id'))).toEqual(['refused', 'upload']);
    expect(photos[1]!.payload.chat_id).toBe(String(chat));
  });

  it('Zalo: an attachment id that expired early (-100) is uploaded again and the image sent', async () => {
    const user = newUserId();
    const say = async (text: string, expected: string) => {
      const n = zalo.textsTo(user).length;
      expect((await postZaloEvent(server.url, zaloEvents.text(user, text))).status).toBe(200);
      for (let i = 0; i < 300 && !zalo.textsTo(user).slice(n).some((t) => t.includes(expected)); i++) await new Promise((r) => setTimeout(r, 20));
    };
    await say('xin chào', 'Tiếng Việt');
    await say('1', 'xã');
    await say('ban pho', 'thông báo');
    await say('2', 'Anh/Chị cần gì?');
    const uploads = zalo.uploads.length;
    zalo.scriptedErrors.set(user, [-100]);
    await say('quy tac 5k', 'Anh/Chị muốn xem gì?');
    expect(zalo.uploads).toHaveLength(uploads + 1);
    const image = zalo.sent.find((m) => m.userId === user && m.message.attachment);
    expect(JSON.stringify(image!.message.attachment)).toContain(zalo.uploads.at(-1)!.attachmentId);
  });

  it('web: the reply carries the picture address, its title and everything it says; the address serves the PNG for good', async () => {
    const u = new WebUser(server.url);
    await u.start();
    await u.say('1');
    await u.say('ban pho');
    const { json } = await u.post({ type: 'text', text: 'quy tac 5k', eventId: u.nextEventId() });
    const picture = (json.replies as WebReply[]).find((r) => r.kind === 'picture');
    expect(picture).toMatchObject({ id: 'fivek', caption: 'Quy tắc 5K' });
    if (picture?.kind !== 'picture') throw new Error('no picture');
    expect(picture.url).toMatch(/^\/guidance\/pictures\/fivek-vi-[0-9a-f]{12}\.png$/);
    expect(picture.alt).toContain('1. Khẩu trang');
    const res = await fetch(`${server.url}${picture.url}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(PNG.sync.read(Buffer.from(await res.arrayBuffer())).width).toBe(800);
    expect((await fetch(`${server.url}/guidance/pictures/fivek-vi-000000000000.png`)).status).toBe(404);
    expect((await fetch(`${server.url}/guidance/pictures/..%2F..%2Fpackage.json`)).status).toBe(404);
  });
});
