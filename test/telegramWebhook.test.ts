import type { TelegramChannel } from '../src/channels/telegram/telegramChannel';
import http from 'node:http';
import { Api, InputFile } from 'grammy';
import { createBotApiFetch } from '../src/channels/telegram/botApiFetch';
import { createTelegramApi, deadline } from '../src/channels/telegram/telegramApi';
import { RecipientUnreachableError } from '../src/outbound/Outbound';
import { FakeBotApi, type RecordedCall, type WebhookAnswer } from './support/fakeBotApi';
import { startServer, testRedisUrl, uniquePrefix } from './support/harness';
import { callbackUpdate, groupTextUpdate, myChatMemberUpdate, newUpdateId, photoUpdate, textUpdate } from './support/telegramUpdates';

const TOKEN = '123456789:AAF1x-webhook-test-token-abcdefghij';
const SECRET = 'bac-ha_webhook_secret_2021';
let chatSeq = 10_000 + Math.floor(Math.random() * 10_000);
const newChat = () => ++chatSeq;

describe('Telegram webhook through the real Express app', () => {
  let fake: FakeBotApi;
  let server: Awaited<ReturnType<typeof startServer>>;
  let channel: TelegramChannel;

  beforeAll(async () => {
    fake = await FakeBotApi.start(TOKEN);
    server = await startServer({
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: fake.url,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      PUBLIC_URL: 'https://bot.bacha.example.gov.vn',
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix(),
    });
    channel = server.runtime.channels.find((c) => c.name === 'telegram') as TelegramChannel;
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  const post = (body: unknown, headers: Record<string, string> = { 'x-telegram-bot-api-secret-token': SECRET }) =>
    fetch(`${server.url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  /** Posts an update as Telegram does (performing the method its answer names) and expects 200. */
  async function deliver(update: unknown): Promise<WebhookAnswer> {
    const answer = await fake.postUpdate(`${server.url}/webhooks/telegram`, SECRET, update);
    expect(answer.status).toBe(200);
    return answer;
  }
  /** What the webhook's answer to a tap carries: the tap's answer, and nothing else. */
  const tapAnswer = (tap: { callback_query: { id: string } }, text?: string) => ({ method: 'answerCallbackQuery', callback_query_id: tap.callback_query.id, ...(text ? { text } : {}) });
  /** The answerCallbackQuery requests the bot made itself for these taps. */
  const answerRequests = (...taps: Array<{ callback_query: { id: string } }>) =>
    fake.requestsOf('answerCallbackQuery').filter((c) => taps.some((t) => t.callback_query.id === c.payload.callback_query_id));

  const sent = (chatId: number) => fake.callsOf('sendMessage', chatId);
  const textsTo = (chatId: number) => sent(chatId).map((c) => c.payload.text as string);
  const waitForTexts = (chatId: number, n: number) => fake.waitFor(() => sent(chatId).length >= n);
  /** Lets anything that would still be sent arrive, so that "nothing more" can be checked. */
  const settle = () => new Promise((r) => setTimeout(r, 250));

  it('registers the webhook with its secret and update kinds, and the command menu in Vietnamese and English, at start-up', () => {
    expect(fake.callsOf('getMe')).toHaveLength(1);
    const [hook] = fake.callsOf('setWebhook');
    expect(hook!.payload).toMatchObject({ url: 'https://bot.bacha.example.gov.vn/webhooks/telegram', secret_token: SECRET });
    expect(hook!.payload.allowed_updates).toEqual(expect.arrayContaining(['message', 'callback_query', 'my_chat_member']));
    const all = fake.callsOf('setMyCommands');
    const commands = all.filter((c) => c.payload.scope?.type === 'all_private_chats');
    expect(commands.map((c) => c.payload.language_code)).toEqual([undefined, 'vi', 'en']);
    // Officials' commands in the menu of group chats.
    const groups = all.filter((c) => c.payload.scope?.type === 'all_group_chats');
    expect(groups.map((c) => c.payload.language_code)).toEqual([undefined, 'vi', 'en']);
    expect((groups[1]!.payload.commands as Array<{ command: string }>).map((c) => c.command)).toEqual(['thongke', 'timbaocao', 'dangnhap', 'thongbao']);
    const vi = commands.find((c) => c.payload.language_code === 'vi')!.payload.commands as Array<{ command: string; description: string }>;
    expect(vi.map((c) => c.command)).toEqual(expect.arrayContaining(['menu', 'help', 'language']));
    expect(vi.find((c) => c.command === 'menu')!.description).toBe('Danh mục chính');
    const en = commands.find((c) => c.payload.language_code === 'en')!.payload.commands as Array<{ command: string; description: string }>;
    expect(en.find((c) => c.command === 'menu')!.description).toBe('Main menu');
  });

  it('answers a wrong or missing secret with 401 and does nothing else', async () => {
    const chat = newChat();
    const before = fake.calls.length;
    expect((await post(textUpdate(chat, '/start'), { 'x-telegram-bot-api-secret-token': 'wrong' })).status).toBe(401);
    expect((await post(textUpdate(chat, '/start'), {})).status).toBe(401);
    // Even a malformed body gets 401 first: nothing is read before the secret is checked.
    expect((await post('{"update_id": ', {})).status).toBe(401);
    await settle();
    expect(fake.calls.length).toBe(before);
    expect(await server.runtime.store.peek(`telegram:${chat}`)).toBeNull();
  });

  it('answers malformed JSON and malformed updates with 400, bodies over 1 MB with 413, and unknown update kinds with 200', async () => {
    const before = fake.calls.length;
    expect((await post('{"update_id": 1, "message": ')).status).toBe(400);
    const wrongShape = await post({ update_id: 'one', message: { chat: {} } });
    expect(wrongShape.status).toBe(400);
    expect(((await wrongShape.json()) as { problems: string[] }).problems).toEqual(expect.arrayContaining([expect.stringMatching(/^update_id:/)]));
    expect((await post({ update_id: newUpdateId(), message: { chat: { id: 1, type: 'private' }, text: 'x'.repeat(1_100_000) } })).status).toBe(413);
    expect((await post({ update_id: newUpdateId(), poll: { id: '1', question: 'q', options: [] } })).status).toBe(200);
    expect((await post({ update_id: newUpdateId(), edited_message: { message_id: 1, chat: { id: 5, type: 'private' }, date: 1, text: 'x' } })).status).toBe(200);
    await settle();
    expect(fake.calls.length).toBe(before);
  });

  it('answers alike on its plain path (Node http) and through Express (a query string, another JSON content type), with the security headers', async () => {
    const ask = async (via: 'plain' | 'express', body: string, secret = SECRET) => {
      const url = `${server.url}/webhooks/telegram${via === 'express' ? '?via=express' : ''}`;
      const type = via === 'express' ? 'application/json; charset=UTF-8; x=1' : 'application/json';
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': type, 'x-telegram-bot-api-secret-token': secret }, body });
      // Express adds an ETag to its answers, the plain path does not: the two really are different paths.
      expect(res.headers.has('etag')).toBe(via === 'express');
      return { status: res.status, type: res.headers.get('content-type'), body: await res.json(), csp: res.headers.get('content-security-policy'), nosniff: res.headers.get('x-content-type-options') };
    };
    const chat = newChat();
    newChat(); // chat + 1 is used too
    const bodies = ['{"update_id": 1, "message": ', '"just a string"', '', JSON.stringify({ update_id: 'one' }), JSON.stringify({ update_id: newUpdateId(), poll: { id: '1', question: 'q', options: [] } })];
    for (const body of bodies) expect(await ask('plain', body)).toEqual(await ask('express', body));
    expect(await ask('plain', '{}', 'wrong')).toEqual(await ask('express', '{}', 'wrong'));
    const plain = await ask('plain', JSON.stringify(textUpdate(chat, '/start')));
    expect(plain).toMatchObject({ status: 200, body: { ok: true }, nosniff: 'nosniff' });
    expect(plain.csp).toContain("frame-ancestors 'none'");
    expect(await ask('express', JSON.stringify(textUpdate(chat + 1, '/start')))).toEqual(plain);
    // A tap: both carry its answerCallbackQuery as the JSON body of their 200, and neither makes the request.
    const taps = [callbackUpdate(chat, 'main:commune'), callbackUpdate(chat + 1, 'main:commune')] as const;
    const plainTap = await ask('plain', JSON.stringify(taps[0]));
    expect(plainTap).toMatchObject({ status: 200, type: 'application/json; charset=utf-8', body: tapAnswer(taps[0]) });
    expect(await ask('express', JSON.stringify(taps[1]))).toEqual({ ...plainTap, body: tapAnswer(taps[1]) });
    await settle();
    expect(answerRequests(...taps)).toEqual([]);
  });

  it('carries a tap’s answerCallbackQuery in the webhook’s answer: one Bot API request per tap instead of two, and a message’s answer stays a plain 200', async () => {
    const chat = newChat();
    expect((await deliver(textUpdate(chat, '/start'))).body).toEqual({ ok: true });
    await fake.waitFor(() => textsTo(chat).some((t) => t.includes('1. Tiếng Việt')));
    await settle();
    const before = fake.calls.length;
    const tap = callbackUpdate(chat, fake.buttonData(chat, 'Tiếng Việt'));
    const answer = await deliver(tap);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.body).toEqual(tapAnswer(tap));
    await fake.waitFor(() => textsTo(chat).some((t) => t.includes('Anh/Chị sống ở xã, thị trấn nào?')));
    await settle();
    // The tap's requests: its one reply. Answering the tap by a request as well made it two.
    const ofTap = fake.calls.slice(before).filter((c) => c.method === 'answerCallbackQuery' || String(c.payload.chat_id) === String(chat));
    expect(ofTap.filter((c) => !c.viaWebhookReply).map((c) => c.method)).toEqual(['sendMessage']);
    expect(ofTap.filter((c) => c.viaWebhookReply).map((c) => c.payload)).toEqual([{ callback_query_id: tap.callback_query.id }]);
  });

  it('answers a redelivered tap in the webhook’s answer again, with no second effect and no request', async () => {
    const chat = newChat();
    await deliver(textUpdate(chat, '/start'));
    const tap = callbackUpdate(chat, fake.buttonData(chat, 'English'));
    expect((await deliver(tap)).body).toEqual(tapAnswer(tap));
    await fake.waitFor(() => textsTo(chat).some((t) => t.includes('Which commune')));
    await settle();
    const replies = textsTo(chat).length;
    const again = await Promise.all([deliver(tap), deliver(tap)]);
    expect(again.map((a) => a.body)).toEqual([tapAnswer(tap), tapAnswer(tap)]);
    await settle();
    expect(textsTo(chat)).toHaveLength(replies);
    expect(answerRequests(tap)).toEqual([]);
  });

  it('a citizen sends /start, taps a language, types a commune and reaches the menu', async () => {
    const chat = newChat();
    await deliver(textUpdate(chat, '/start'));
    await fake.waitFor(() => textsTo(chat).some((t) => t.includes('1. Tiếng Việt')));
    const question = sent(chat).find((c) => c.payload.reply_markup?.inline_keyboard)!;
    expect(question.payload.parse_mode).toBe('HTML');
    const buttons = (question.payload.reply_markup.inline_keyboard as Array<Array<{ text: string; callback_data: string }>>).flat();
    expect(buttons.map((b) => b.text)).toEqual(['Tiếng Việt', 'English']);

    const tap = callbackUpdate(chat, buttons[0]!.callback_data);
    expect((await deliver(tap)).body).toEqual(tapAnswer(tap));
    await fake.waitFor(() => textsTo(chat).some((t) => t.includes('Anh/Chị sống ở xã, thị trấn nào?')));

    await deliver(textUpdate(chat, 'ban pho'));
    // On Telegram, onboarding also offers the commune's announcements.
    await fake.waitFor(() => textsTo(chat).some((t) => t.includes('nhận thông báo của Xã Bản Phố')));
    await deliver(textUpdate(chat, '2'));
    await fake.waitFor(() => textsTo(chat).some((t) => /\d+\. Khác\.\.\./.test(t)));
    expect((await server.runtime.store.peek(`telegram:${chat}`))!.profile).toEqual({ locale: 'vi', commune: 'ban-pho' });
  });

  it('opens a flow from a deep link /start <payload> once onboarded', async () => {
    const chat = newChat();
    await deliver(textUpdate(chat, '/start'));
    await deliver(textUpdate(chat, '2'));
    await deliver(textUpdate(chat, 'bac ha'));
    await deliver(textUpdate(chat, '2'));
    await fake.waitFor(() => textsTo(chat).some((t) => t.includes('Saved')));
    await deliver(textUpdate(chat, '/start contacts'));
    await fake.waitFor(() => textsTo(chat).some((t) => t.includes('1900 9095')));
  });

  it('handles the same update_id delivered three times once: one set of replies', async () => {
    const chat = newChat();
    const update = textUpdate(chat, '/start');
    await deliver(update);
    await Promise.all([deliver(update), deliver(update)]);
    await waitForTexts(chat, 1);
    await settle();
    const first = textsTo(chat);
    expect(first.filter((t) => t.includes('1. Tiếng Việt'))).toHaveLength(1);
    // Had a repeat been handled as a new /start, it would have asked again; had "2" been repeated, it would pick a commune.
    const two = textUpdate(chat, '2');
    await Promise.all([deliver(two), deliver(two), deliver(two)]);
    await settle();
    expect(textsTo(chat).filter((t) => t.includes('Which commune'))).toHaveLength(1);
    expect((await server.runtime.store.peek(`telegram:${chat}`))!.profile).toEqual({ locale: 'en', commune: null });
  });

  it('waits out a 429 with retry_after and delivers once', async () => {
    const chat = newChat();
    fake.fail('sendMessage', { status: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } }, { match: (p) => String(p.chat_id) === String(chat) });
    await deliver(textUpdate(chat, '/start'));
    await fake.waitFor(() => sent(chat).length >= 2, 20_000);
    await settle();
    const attempts: RecordedCall[] = sent(chat);
    // The first attempt was refused; the same message came again after at least retry_after, and only once.
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.payload).toEqual(attempts[0]!.payload);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(990);
    expect(attempts[1]!.payload.text).toContain('1. Tiếng Việt');
  });

  it('does not hold the webhook while the Bot API has not answered: it answers, and the reply follows', async () => {
    const chat = newChat();
    const release = fake.hold('sendMessage');
    try {
      await deliver(textUpdate(chat, '/start'));
      // The reply was handed to the Bot API and is still waiting for its answer.
      expect(sent(chat)).toHaveLength(1);
    } finally {
      release();
    }
    await fake.waitFor(() => sent(chat).length >= 1);
    expect(textsTo(chat)[0]).toContain('1. Tiếng Việt');
  });

  it('does not hold the webhook for a long rate limit: it answers, and the reply follows after retry_after', async () => {
    const chat = newChat();
    fake.fail('sendMessage', { status: 429, description: 'Too Many Requests: retry after 5', parameters: { retry_after: 5 } }, { match: (p) => String(p.chat_id) === String(chat) });
    await deliver(textUpdate(chat, '/start'));
    // The webhook answers at the latest a second after the commit, long before the retry is due.
    expect(sent(chat)).toHaveLength(1);
    await fake.waitFor(() => sent(chat).length >= 2, 20_000);
    expect(sent(chat)[1]!.at - sent(chat)[0]!.at).toBeGreaterThanOrEqual(4990);
  });

  it('retries a 5xx from the Bot API after a backoff and delivers once', async () => {
    const chat = newChat();
    fake.fail('sendMessage', { status: 502, description: 'Bad Gateway' }, { match: (p) => String(p.chat_id) === String(chat) });
    await deliver(textUpdate(chat, '/start'));
    await fake.waitFor(() => sent(chat).length >= 2, 8000);
    await settle();
    expect(sent(chat)).toHaveLength(2);
    expect(sent(chat)[1]!.at - sent(chat)[0]!.at).toBeGreaterThanOrEqual(2900);
  });

  it('marks a user who blocked the bot as unreachable, sends them nothing more, and clears the mark when they come back', async () => {
    const chat = newChat();
    fake.fail('sendMessage', { status: 403, description: 'Forbidden: bot was blocked by the user' }, { match: (p) => String(p.chat_id) === String(chat), times: 1 });
    await deliver(textUpdate(chat, '/start'));
    await fake.waitFor(() => sent(chat).length >= 1);
    await settle();
    expect(sent(chat)).toHaveLength(1); // no retry of a 403, nor of the rest of the replies
    expect(await server.runtime.reachability.isReachable('telegram', String(chat))).toBe(false);

    await expect(server.runtime.outbound.send('telegram', String(chat), [{ kind: 'text', text: 'Thông báo' }])).rejects.toBeInstanceOf(RecipientUnreachableError);
    expect(sent(chat)).toHaveLength(1);

    await deliver(myChatMemberUpdate(chat, 'member'));
    expect(await server.runtime.reachability.isReachable('telegram', String(chat))).toBe(true);
  });

  it('marks a chat unreachable on my_chat_member "kicked", and a notice to it is refused without calling Telegram', async () => {
    const chat = newChat();
    await deliver(myChatMemberUpdate(chat, 'kicked'));
    expect(await server.runtime.reachability.isReachable('telegram', String(chat))).toBe(false);
    await expect(server.runtime.outbound.send('telegram', String(chat), [{ kind: 'text', text: 'x' }])).rejects.toThrow(/cannot be reached/);
    expect(sent(chat)).toHaveLength(0);
    await deliver(myChatMemberUpdate(chat, 'member'));
    await server.runtime.outbound.send('telegram', String(chat), [{ kind: 'text', text: 'Lịch tiêm <b>mới</b>' }]);
    expect(textsTo(chat)).toEqual(['Lịch tiêm &lt;b&gt;mới&lt;/b&gt;']);
  });

  it('a notice refused with 403 marks the chat unreachable and throws RecipientUnreachableError', async () => {
    const chat = newChat();
    fake.fail('sendMessage', { status: 403, description: 'Forbidden: user is deactivated' }, { match: (p) => String(p.chat_id) === String(chat) });
    await expect(channel.sender.send(String(chat), [{ kind: 'text', text: 'x' }])).rejects.toBeInstanceOf(RecipientUnreachableError);
    expect(await server.runtime.reachability.isReachable('telegram', String(chat))).toBe(false);
  });

  it('answers every callback query, also for stale buttons, repeats and taps without data, in the webhook’s answer', async () => {
    const chat = newChat();
    await deliver(textUpdate(chat, '/start'));
    const stale = callbackUpdate(chat, 'oldstep:x');
    const noData = callbackUpdate(chat, 'x');
    delete (noData.callback_query as { data?: string }).data;
    const answers = [await deliver(stale), await deliver(stale), await deliver(noData)];
    expect(answers.map((a) => a.body)).toEqual([tapAnswer(stale), tapAnswer(stale), tapAnswer(noData)]);
    await settle();
    expect(answerRequests(stale, noData)).toEqual([]);
  });

  it('keeps only the photo’s file id and never downloads the file (officials get it forwarded by its id)', async () => {
    const chat = newChat();
    await deliver(textUpdate(chat, '/start'));
    await deliver(photoUpdate(chat, ['p-small', 'p-medium', 'p-large']));
    await settle();
    expect(fake.callsOf('getFile')).toHaveLength(0);
  });

  it('passes group messages and taps to the officials’ handlers once, replies to the group and shows the toast', async () => {
    const group = -1_000_000_000_000 - newChat();
    const seen: string[] = [];
    const failOnce = new Set(['/fail', 'report:fail']);
    server.runtime.groups.register(async (event) => {
      if (event.chatId !== String(group)) return null;
      const what = event.kind === 'text' ? event.text : event.data;
      if (what !== undefined && failOnce.delete(what)) throw new Error('records database is down');
      seen.push(`${event.kind}:${event.text ?? event.data}:${event.fromName}`);
      return { replies: [{ kind: 'text', text: `Đã nhận: ${event.text ?? event.data}` }], toast: event.kind === 'button' ? 'Đã tiếp nhận' : undefined };
    });

    const command = groupTextUpdate(group, 321, '/hop@bacha_test_bot Họp <khẩn>');
    await deliver(command);
    await deliver(command);
    const tap = callbackUpdate(group, 'report:ack:R7', newUpdateId(), 'group', 321);
    // The toast rides on the webhook's answer (the handler decided it at the commit).
    expect((await deliver(tap)).body).toEqual(tapAnswer(tap, 'Đã tiếp nhận'));
    await fake.waitFor(() => sent(group).length >= 2);
    expect(seen).toEqual(['text:/hop Họp <khẩn>:Hoàng Văn Sơn', 'button:report:ack:R7:Lò Thị Mai']);
    expect(textsTo(group)).toEqual(['Đã nhận: /hop Họp &lt;khẩn&gt;', 'Đã nhận: report:ack:R7']);

    // A failure before the commit answers 5xx (Telegram redelivers); the redelivery is then handled once.
    const failing = groupTextUpdate(group, 321, '/fail');
    expect((await post(failing)).status).toBe(503);
    await deliver(failing);
    await deliver(failing);
    await fake.waitFor(() => sent(group).length >= 3);
    await settle();
    expect(seen.filter((s) => s.startsWith('text:/fail'))).toHaveLength(1);
    expect(textsTo(group)).toHaveLength(3);

    // A tap that cannot be committed: 503 without the tap's answer (nothing is known yet); the redelivery carries it.
    const failingTap = callbackUpdate(group, 'report:fail', newUpdateId(), 'group', 321);
    const refused = await fake.postUpdate(`${server.url}/webhooks/telegram`, SECRET, failingTap);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'unavailable' });
    expect(refused.body).not.toHaveProperty('method');
    expect((await deliver(failingTap)).body).toEqual(tapAnswer(failingTap, 'Đã tiếp nhận'));
    await settle();
    expect(seen.filter((s) => s.startsWith('button:report:fail'))).toHaveLength(1);
    expect(answerRequests(tap, failingTap)).toEqual([]);
  });
});

describe('the Bot API transport', () => {
  it('uploads files (multipart) as well as JSON calls, and turns a refused call into a GrammyError with its code', async () => {
    const fake = await FakeBotApi.start(TOKEN);
    try {
      const api = createTelegramApi({ token: TOKEN, apiRoot: fake.url });
      await api.sendMessage(42, 'xin chào');
      await api.sendPhoto(42, new InputFile(Buffer.from('PNG-BYTES-OF-A-QR-POSTER'), 'qr.png'), { caption: 'Mã QR' });
      const [message] = fake.callsOf('sendMessage');
      expect(message!.payload).toMatchObject({ chat_id: 42, text: 'xin chào' });
      const [upload] = fake.callsOf('sendPhoto');
      expect(upload!.payload.contentType).toMatch(/^multipart\/form-data/);
      expect(upload!.payload.body).toContain('PNG-BYTES-OF-A-QR-POSTER');
      fake.fail('sendMessage', { status: 400, description: 'Bad Request: chat not found' });
      await expect(api.sendMessage(43, 'x')).rejects.toMatchObject({ error_code: 400, description: 'Bad Request: chat not found' });
      await expect(new Api(TOKEN.replace('1', '2'), { apiRoot: fake.url, fetch: createBotApiFetch() }).getMe()).rejects.toMatchObject({ error_code: 401 });
    } finally {
      await fake.close();
    }
  });

  it('gives up a call whose deadline passes while the Bot API does not answer', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const api = createTelegramApi({ token: TOKEN, apiRoot: `http://127.0.0.1:${(silent.address() as { port: number }).port}` }, { maxDelaySeconds: 5, maxRetryAttempts: 3 });
      // Without the deadline the call would wait for an answer that never comes, and the test would time out.
      await expect(api.sendMessage(42, 'x', {}, deadline(300))).rejects.toThrow();
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
