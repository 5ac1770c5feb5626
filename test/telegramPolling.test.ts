import TelegramServer from 'telegram-test-api';
import { FakeBotApi } from './support/fakeBotApi';
import { startServer, testRedisUrl, uniquePrefix } from './support/harness';
import { callbackUpdate, groupTextUpdate, newUpdateId, textUpdate } from './support/telegramUpdates';
import { freePort } from './support/freePort';

/* eslint-disable @typescript-eslint/no-explicit-any */

const TOKEN = '987654321:AAE-polling-test-token-abcdefghijkl';

type Client = ReturnType<TelegramServer['getClient']>;

/** What the bot sent to this client's chat (sendMessage payloads), collected until `predicate` matches one. */
async function waitForBotMessage(client: Client, seen: any[], predicate: (m: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = seen.find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`the bot did not send the expected message within ${timeoutMs} ms; it sent: ${JSON.stringify(seen.map((m) => m.text))}`);
    try {
      const { result } = await client.getUpdates();
      seen.push(...result.map((u: any) => u.message));
    } catch (err) {
      // The emulator's client gives up after its own timeout when the bot sent nothing new; poll again.
      if (!/did not get new updates/.test((err as Error).message)) throw err;
    }
  }
}

describe('Telegram in polling mode against telegram-test-api', () => {
  let tg: TelegramServer;
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    tg = new TelegramServer({ port: await freePort(), host: '127.0.0.1', storage: 'RAM' });
    await tg.start();
    server = await startServer({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: tg.config.apiURL, TELEGRAM_MODE: 'polling', REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() });
  });
  afterAll(async () => {
    await server.close();
    await tg.stop();
  });

  it('a user sends /start, picks the language by tapping, types the commune and reaches the menu', async () => {
    const client = tg.getClient(TOKEN, { userId: 4242, chatId: 4242, firstName: 'Mai', timeout: 1500, interval: 50 });
    const seen: any[] = [];

    await client.sendCommand(client.makeCommand('/start'));
    const language = await waitForBotMessage(client, seen, (m) => String(m.text).includes('1. Tiếng Việt') && m.reply_markup?.inline_keyboard);
    expect(language.parse_mode).toBe('HTML');
    const buttons = language.reply_markup.inline_keyboard.flat() as Array<{ text: string; callback_data: string }>;
    const vietnamese = buttons.find((b) => b.text === 'Tiếng Việt')!;

    await client.sendCallback(client.makeCallbackQuery(vietnamese.callback_data));
    const commune = await waitForBotMessage(client, seen, (m) => String(m.text).includes('Anh/Chị sống ở xã, thị trấn nào?'));
    const communeButtons = commune.reply_markup.inline_keyboard as Array<Array<{ text: string; callback_data: string }>>;
    expect(communeButtons.flat().map((b) => b.text)).toContain('Xã Bản Phố');
    expect(Math.max(...communeButtons.map((r) => r.length))).toBeLessThanOrEqual(8);

    await client.sendMessage(client.makeMessage('ban pho'));
    // On Telegram, onboarding also offers the commune's announcements.
    await waitForBotMessage(client, seen, (m) => String(m.text).includes('nhận thông báo của Xã Bản Phố'));
    await client.sendMessage(client.makeMessage('2'));
    await waitForBotMessage(client, seen, (m) => /\d+\. Khác\.\.\./.test(String(m.text)));
    expect((await server.runtime.store.peek('telegram:4242'))!.profile).toEqual({ locale: 'vi', commune: 'ban-pho' });
  });
});

describe('Telegram polling against a fake Bot API', () => {
  let fake: FakeBotApi;
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    fake = await FakeBotApi.start(TOKEN);
    server = await startServer({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.url, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() });
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  it('polls by default without PUBLIC_URL, after removing any webhook, asking for the update kinds it uses', async () => {
    expect(fake.callsOf('deleteWebhook')).toHaveLength(1);
    expect(fake.callsOf('setWebhook')).toHaveLength(0);
    await fake.waitFor((calls) => calls.some((c) => c.method === 'getUpdates'));
    expect(fake.callsOf('getUpdates')[0]!.payload.allowed_updates).toEqual(expect.arrayContaining(['message', 'callback_query', 'my_chat_member']));
  });

  it('confirms an update only once committed: one that fails is fetched again and then handled once; a repeated update_id has no second effect', async () => {
    const group = -100_777_000;
    let failures = 1;
    const handled: string[] = [];
    server.runtime.groups.register(async (event) => {
      if (event.chatId !== String(group)) return null;
      if (failures-- > 0) throw new Error('records database is down');
      handled.push(event.text ?? '');
      return { replies: [{ kind: 'text', text: 'Đã nhận' }] };
    });
    const report = groupTextUpdate(group, 11, '/baocao');
    const start = textUpdate(777_001, '/start');
    fake.queueUpdates(report, start, { ...start });

    await fake.waitFor(() => fake.callsOf('sendMessage', group).length >= 1 && fake.callsOf('sendMessage', 777_001).length >= 1, 8000);
    await new Promise((r) => setTimeout(r, 300));
    expect(handled).toEqual(['/baocao']);
    expect(fake.callsOf('sendMessage', group)).toHaveLength(1);
    expect(fake.callsOf('sendMessage', 777_001)).toHaveLength(1);
    // The poller moved past every update it handled.
    const offsets = fake.callsOf('getUpdates').map((c) => c.payload.offset as number | undefined);
    expect(offsets.at(-1)).toBe(start.update_id + 1);
    expect(newUpdateId()).toBeGreaterThan(start.update_id);
  });

  it('answers a button tap with an answerCallbackQuery request: polling has no webhook answer to carry it', async () => {
    const chat = 777_002;
    fake.queueUpdates(textUpdate(chat, '/start'));
    await fake.waitFor(() => fake.callsOf('sendMessage', chat).length >= 1, 8000);
    const tap = callbackUpdate(chat, fake.buttonData(chat, 'Tiếng Việt'));
    fake.queueUpdates(tap);
    await fake.waitFor(() => fake.callsOf('sendMessage', chat).length >= 2, 8000);
    await fake.waitFor(() => fake.requestsOf('answerCallbackQuery').some((c) => c.payload.callback_query_id === tap.callback_query.id), 8000);
    expect(fake.callsOf('answerCallbackQuery').filter((c) => c.payload.callback_query_id === tap.callback_query.id)).toHaveLength(1);
  });
});
