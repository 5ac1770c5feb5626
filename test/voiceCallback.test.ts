import type { FakeBotApi } from './support/fakeBotApi';
import { FakeZalo, newMsgId, postZaloEvent, zaloEnv, zaloEvents, FAKE_APP_ID, FAKE_OA_ID } from './support/fakeZalo';
import { startTelegramServer, type TelegramTestServer } from './support/telegramServer';
import { callbackUpdate, newUpdateId, person, textUpdate } from './support/telegramUpdates';

const TOKEN = '123456789:AAF1x-voice-test-token-abcdefghij';
const SECRET = 'voice_test_secret';
const DISTRICT_GROUP = -1003000000001;
const INITIAL = { accessToken: 'acc-voice-1', refreshToken: 'ref-voice-1' };

function voiceUpdate(chatId: number, fileId: string) {
  return {
    update_id: newUpdateId(),
    message: {
      message_id: Math.floor(Math.random() * 1e6),
      from: person(chatId),
      chat: { id: chatId, first_name: 'Lò Thị', type: 'private' },
      date: Math.floor(Date.now() / 1000),
      voice: { file_id: fileId, file_unique_id: `u-${fileId}`, duration: 7, mime_type: 'audio/ogg', file_size: 12034 },
    },
  };
}

function zaloAudio(userId: string, url: string) {
  return {
    app_id: FAKE_APP_ID,
    sender: { id: userId },
    recipient: { id: FAKE_OA_ID },
    event_name: 'user_send_audio',
    message: { msg_id: newMsgId(), attachments: [{ type: 'audio', payload: { url } }] },
    timestamp: String(Date.now()),
  };
}

/** People who speak rather than type: a voice message becomes a consent question, then a "cần gọi lại" card. */
describe('voice messages become call-back cards', () => {
  let t: TelegramTestServer;
  let bot: FakeBotApi;
  let zalo: FakeZalo;
  let server: TelegramTestServer['server'];

  beforeAll(async () => {
    zalo = await new FakeZalo(INITIAL).start();
    t = await startTelegramServer({ token: TOKEN, secret: SECRET, env: { ...zaloEnv(zalo, INITIAL), OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT_GROUP) } });
    ({ bot, server } = t);
  });
  afterAll(async () => {
    await t?.close();
    await zalo.stop();
  });

  const deliver = (update: unknown) => t.send(update);
  const textsTo = (chat: number | string) => t.texts(chat);
  const say = async (chat: number, update: unknown) => (await t.reply(chat, update)).join('\n---\n');
  const callbacks = async () => server.runtime.db.query<{ id: number; reference: string; commune: string; data: Record<string, unknown> | string }>(`SELECT id, reference, commune, data FROM records WHERE kind = 'callback' ORDER BY id`);

  it('on Telegram: asks for consent; with it, the recording and phone reach the commune officials as a card with the same buttons', async () => {
    const chat = 990001;
    await say(chat, textUpdate(chat, '/start'));
    await say(chat, textUpdate(chat, '1'));
    await say(chat, textUpdate(chat, 'ban pho'));
    await say(chat, textUpdate(chat, '2'));

    const consent = await say(chat, voiceUpdate(chat, 'AwACAgUAAxkBAAIBvoice1'));
    expect(consent).toContain('Anh/Chị vừa gửi tin nhắn thoại');
    expect(consent).toContain('1. 📞 Có, gọi lại cho tôi');
    expect(await say(chat, textUpdate(chat, '1'))).toContain('Số điện thoại');
    await say(chat, textUpdate(chat, '0912 345 678'));
    const done = await say(chat, textUpdate(chat, '1'));
    expect(done).toMatch(/Tin nhắn thoại đã được lưu \(mã GL-/);

    const [record] = await callbacks();
    expect(record).toBeDefined();
    expect(record!.commune).toBe('ban-pho');
    await server.runtime.dispatcher.runUntilIdle();
    await bot.waitFor(() => bot.callsOf('sendVoice', DISTRICT_GROUP).length === 1);
    expect(bot.callsOf('sendVoice', DISTRICT_GROUP)[0]!.payload.voice).toBe('AwACAgUAAxkBAAIBvoice1');
    const card = bot.callsOf('sendMessage', DISTRICT_GROUP).find((c) => String(c.payload.text).includes(record!.reference))!;
    expect(String(card.payload.text)).toContain('Cần gọi lại (tin nhắn thoại)');
    expect(String(card.payload.text)).toContain('0912 345 678');
    const buttons = JSON.stringify(card.payload.reply_markup);
    expect(buttons).toContain(`rec:ack:${record!.id}`);
    expect(buttons).toContain(`rec:done:${record!.id}`);

    // The same acknowledge button as for reports works on it.
    await deliver(callbackUpdate(DISTRICT_GROUP, `rec:ack:${record!.id}`, undefined, 'group', 5551));
    await bot.waitFor(() => bot.callsOf('answerCallbackQuery').length > 0);
    const [status] = await server.runtime.db.query<{ status: string }>(`SELECT status FROM records WHERE id = $1`, [record!.id]);
    expect(status!.status).toBe('acknowledged');

    // And "delete my data" deletes it like a report.
    await server.runtime.personalData.eraseUser('telegram', String(chat));
    expect(await callbacks()).toEqual([]);
  });

  it('without consent nothing is stored or sent', async () => {
    const chat = 990002;
    await say(chat, textUpdate(chat, '/start'));
    await say(chat, textUpdate(chat, '1'));
    await say(chat, textUpdate(chat, 'coc ly'));
    await say(chat, textUpdate(chat, '2'));
    await say(chat, voiceUpdate(chat, 'AwACAgUAAxkBAAIBvoice2'));
    expect(await say(chat, textUpdate(chat, '2'))).toContain('Tin nhắn thoại không được gửi đi');
    expect(await server.runtime.db.query(`SELECT 1 FROM records WHERE user_id = $1`, [String(chat)])).toEqual([]);
  });

  it('on Zalo: a voice message gets the same question, and the card carries a link to the recording', async () => {
    const user = '4558424660619000777';
    /** Posts an event and waits for the bot's answer to end with `expected`. */
    const zaloSay = async (event: Record<string, unknown>, expected: string) => {
      const n = zalo.textsTo(user).length;
      expect((await postZaloEvent(server.url, event)).status).toBe(200);
      for (let i = 0; i < 300 && !zalo.textsTo(user).slice(n).some((t) => t.includes(expected)); i++) await new Promise((r) => setTimeout(r, 20));
      expect(zalo.textsTo(user).slice(n).join('\n')).toContain(expected);
    };
    await zaloSay(zaloEvents.text(user, 'xin chào'), 'Tiếng Việt');
    await zaloSay(zaloEvents.text(user, '1'), 'xã');
    await zaloSay(zaloEvents.text(user, 'na hoi'), 'thông báo');
    await zaloSay(zaloEvents.text(user, '2'), 'Anh/Chị cần gì?');
    await zaloSay(zaloAudio(user, 'https://voice-aac.zdn.vn/abc/voice.aac'), 'Anh/Chị vừa gửi tin nhắn thoại');
    await zaloSay(zaloEvents.text(user, '1'), 'Số điện thoại');
    await zaloSay(zaloEvents.text(user, '0987 654 321'), 'xã');
    await zaloSay(zaloEvents.text(user, '1'), 'mã GL-');
    await server.runtime.dispatcher.runUntilIdle();
    await bot.waitFor(() => textsTo(DISTRICT_GROUP).some((t) => t.includes('https://voice-aac.zdn.vn/abc/voice.aac')));
    const [record] = (await callbacks()).filter((r) => r.commune === 'na-hoi');
    expect(record).toBeDefined();
  });
});
