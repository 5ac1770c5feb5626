import { FakeBotApi } from '../support/fakeBotApi';
import { FakeZalo, newUserId, postZaloEvent, zaloEnv, zaloEvents } from '../support/fakeZalo';
import { startServer, testRedisUrl, uniquePrefix } from '../support/harness';
import { callbackUpdate, textUpdate } from '../support/telegramUpdates';

const TOKEN = '123456789:AAF1x-answer-webhook-token-abcdefg';
const SECRET = 'answer_webhook_secret';
const INITIAL = { accessToken: 'acc-answer-1', refreshToken: 'ref-answer-1' };

describe('Telegram and Zalo answer their webhooks the same way', () => {
  let bot: FakeBotApi;
  let zalo: FakeZalo;
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    bot = await FakeBotApi.start(TOKEN);
    zalo = await new FakeZalo(INITIAL).start();
    server = await startServer({
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: bot.url,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      ...zaloEnv(zalo, INITIAL),
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix(),
    });
  });
  afterAll(async () => {
    await server.close().catch(() => undefined);
    await bot.close();
    await zalo.stop();
  });

  const postTelegram = async (update: unknown) => {
    const res = await fetch(`${server.url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('503 "shutting_down" once the channel is stopping, so that the platform redelivers elsewhere', async () => {
    expect((await postTelegram(textUpdate(990_001, '/start'))).status).toBe(200);
    for (const channel of server.runtime.channels) await channel.stop?.();
    const telegram = await postTelegram(textUpdate(990_002, '/start'));
    const zaloAnswer = await postZaloEvent(server.url, zaloEvents.follow(newUserId()));
    expect([telegram.status, telegram.json.error]).toEqual([503, 'shutting_down']);
    // A button tap is refused alike: no answerCallbackQuery in the answer, and none requested.
    const tap = await postTelegram(callbackUpdate(990_002, 'main:commune'));
    expect(tap).toEqual({ status: 503, json: expect.objectContaining({ error: 'shutting_down' }) });
    expect(tap.json).not.toHaveProperty('method');
    expect(bot.callsOf('answerCallbackQuery')).toHaveLength(0);
    expect([zaloAnswer.status, zaloAnswer.json.error]).toEqual([503, 'shutting_down']);
    expect(await server.runtime.store.peek('telegram:990002')).toBeNull();
  });
});

describe('an event that cannot be committed', () => {
  it('is answered 503 "unavailable" by both channels', async () => {
    const bot = await FakeBotApi.start(TOKEN);
    const zalo = await new FakeZalo(INITIAL).start();
    const server = await startServer({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: bot.url, TELEGRAM_WEBHOOK_SECRET: SECRET, ...zaloEnv(zalo, INITIAL), REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() });
    try {
      await server.runtime.store.close();
      const telegram = await fetch(`${server.url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(textUpdate(990_003, '/start')) });
      const zaloAnswer = await postZaloEvent(server.url, zaloEvents.text(newUserId(), '1'));
      expect([telegram.status, ((await telegram.json()) as { error: string }).error]).toEqual([503, 'unavailable']);
      expect([zaloAnswer.status, zaloAnswer.json.error]).toEqual([503, 'unavailable']);
    } finally {
      await server.close().catch(() => undefined);
      await bot.close();
      await zalo.stop();
    }
  });
});
