import { loadConfig, ConfigError } from '../../../src/config';
import { parseTelegramUpdate } from '../../../src/channels/telegram/parseTelegramUpdate';
import { escapeHtml, renderInlineKeyboard, renderTelegramReplies, splitText, type RenderWarning } from '../../../src/channels/telegram/renderTelegramReplies';
import { verifyTelegramSecret } from '../../../src/channels/telegram/telegramWebhook';
import type { Reply, ReplyOption } from '../../../src/engine/types';
import { callbackUpdate, contactUpdate, groupTextUpdate, locationUpdate, myChatMemberUpdate, photoUpdate, textUpdate } from '../../support/telegramUpdates';

const TOKEN = '123456789:AAF1x-abcdefghijklmnopqrstuvwxyz0123';

function meaning(update: unknown, botUsername?: string) {
  const r = parseTelegramUpdate(update, botUsername);
  if (!r.ok) throw new Error(`unexpected problems: ${r.problems.join('; ')}`);
  return r.meaning;
}

describe('Telegram updates become the engine’s events', () => {
  it('turns /start with a deep-link payload into a start event with that payload', () => {
    const m = meaning(textUpdate(42, '/start declaration__phone', 9001));
    expect(m).toEqual({ kind: 'citizen', chatId: '42', event: { channel: 'telegram', userId: '42', eventId: 'tg:9001', kind: 'start', payload: 'declaration__phone' } });
  });

  it('turns /start alone (also /start@Bot) into a start event without payload', () => {
    expect(meaning(textUpdate(42, '/start'))).toMatchObject({ event: { kind: 'start' } });
    expect(meaning(textUpdate(42, '/start@bacha_test_bot'))).toMatchObject({ event: { kind: 'start' } });
    expect((meaning(textUpdate(42, '/start')) as { event: { payload?: string } }).event.payload).toBeUndefined();
  });

  it('passes other commands and texts on as text', () => {
    expect(meaning(textUpdate(42, '/menu'))).toMatchObject({ event: { kind: 'text', text: '/menu' } });
    expect(meaning(textUpdate(42, 'ban pho'))).toMatchObject({ event: { kind: 'text', text: 'ban pho' } });
  });

  it('turns a button tap into a choice with the option id, keeping the query id to answer', () => {
    const m = meaning(callbackUpdate(42, 'language:vi', 77));
    expect(m).toMatchObject({ kind: 'citizen', chatId: '42', event: { kind: 'choice', optionId: 'language:vi', eventId: 'tg:77' } });
    expect((m as { callbackQueryId?: string }).callbackQueryId).toEqual(expect.any(String));
  });

  it('reads a #<number> button (an option id too long for callback_data) as typing that number', () => {
    expect(meaning(callbackUpdate(42, '#3'))).toMatchObject({ event: { kind: 'text', text: '3' } });
  });

  it('turns contacts, locations and photos into their events, keeping the largest photo’s file id only', () => {
    expect(meaning(contactUpdate(42, '+84912345678'))).toMatchObject({ event: { kind: 'contact', phone: '+84912345678', name: 'Lò Thị Mai' } });
    expect(meaning(locationUpdate(42, 22.54, 104.29))).toMatchObject({ event: { kind: 'location', latitude: 22.54, longitude: 104.29 } });
    expect(meaning(photoUpdate(42, ['s', 'm', 'L'], 'ho sot'))).toMatchObject({ event: { kind: 'photo', fileRef: 'L', caption: 'ho sot' } });
  });

  it('turns a sticker or voice note into an empty text, so that the question is asked again, and ignores service messages', () => {
    const sticker = { update_id: 5, message: { message_id: 1, date: 1, chat: { id: 42, type: 'private' }, from: { id: 42, is_bot: false, first_name: 'A' }, sticker: { file_id: 'x' } } };
    expect(meaning(sticker)).toMatchObject({ event: { kind: 'text', text: '' } });
    const pinned = { update_id: 6, message: { message_id: 2, date: 1, chat: { id: 42, type: 'private' }, from: { id: 42, is_bot: false, first_name: 'A' }, pinned_message: { message_id: 1 } } };
    expect(meaning(pinned)).toMatchObject({ kind: 'ignored' });
  });

  it('turns group messages and taps into group events, ignoring commands for other bots', () => {
    expect(meaning(groupTextUpdate(-1001, 55, '/thongbao@bacha_test_bot Họp lúc 8h'), 'bacha_test_bot')).toMatchObject({
      kind: 'group',
      chatId: '-1001',
      event: { channel: 'telegram', chatId: '-1001', fromUserId: '55', fromName: 'Hoàng Văn Sơn', kind: 'text', text: '/thongbao Họp lúc 8h' },
    });
    expect(meaning(groupTextUpdate(-1001, 55, '/thongbao@other_bot x'), 'bacha_test_bot')).toMatchObject({ kind: 'ignored' });
    expect(meaning(callbackUpdate(-1001, 'report:ack:R12', 80, 'group', 55))).toMatchObject({ kind: 'group', event: { kind: 'button', data: 'report:ack:R12', fromUserId: '55', messageId: expect.any(String) } });
  });

  it('reads my_chat_member: kicked means unreachable, member means reachable again', () => {
    expect(meaning(myChatMemberUpdate(42, 'kicked'))).toEqual({ kind: 'membership', chatId: '42', reachable: false, status: 'kicked' });
    expect(meaning(myChatMemberUpdate(42, 'member'))).toEqual({ kind: 'membership', chatId: '42', reachable: true, status: 'member' });
  });

  it('ignores update kinds it does not use, and names the field of a malformed update', () => {
    expect(meaning({ update_id: 1, edited_message: { message_id: 1 } })).toEqual({ kind: 'ignored', reason: 'update kind not used' });
    expect(meaning({ update_id: 2, poll: { id: 'p' } })).toMatchObject({ kind: 'ignored' });
    const bad = parseTelegramUpdate({ update_id: 'x', message: { chat: { id: 'nope' } } });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^update_id:/), expect.stringMatching(/^message\.chat\.id:/)]));
    expect(parseTelegramUpdate(null).ok).toBe(false);
  });
});

describe('the engine’s replies become Bot API calls', () => {
  const options = (n: number, label = (i: number) => `Xã số ${i}`): ReplyOption[] => Array.from({ length: n }, (_, i) => ({ id: `commune:c${i + 1}`, label: label(i + 1), number: i + 1 }));

  it('shows choices as the numbered text with an inline keyboard whose callback_data are the option ids', () => {
    const [call] = renderTelegramReplies([{ kind: 'choices', text: 'Chọn ngôn ngữ', options: [{ id: 'language:vi', label: 'Tiếng Việt', number: 1 }, { id: 'language:en', label: 'English', number: 2 }] }]);
    expect(call).toMatchObject({ method: 'sendMessage', parse_mode: 'HTML', text: 'Chọn ngôn ngữ\n\n1. Tiếng Việt\n2. English' });
    const keyboard = (call as { reply_markup: { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> } }).reply_markup.inline_keyboard;
    expect(keyboard.flat()).toEqual([
      { text: 'Tiếng Việt', callback_data: 'language:vi' },
      { text: 'English', callback_data: 'language:en' },
    ]);
  });

  it('never puts more than 8 buttons in a row, nor callback_data over 64 bytes', () => {
    const short = renderInlineKeyboard(options(20, (i) => String(i)));
    expect(Math.max(...short.map((r) => r.length))).toBeLessThanOrEqual(8);
    expect(short.flat()).toHaveLength(20);
    const long = renderInlineKeyboard(options(19, (i) => `Xã Nậm Khánh có tên rất dài số ${i}`));
    expect(long.every((r) => r.length === 1)).toBe(true);
    const warnings: RenderWarning[] = [];
    const tooLong = renderInlineKeyboard([{ id: `${'x'.repeat(40)}:${'đ'.repeat(20)}`, label: 'A', number: 1 }, { id: 'y'.repeat(70), label: 'Done' }], new Set(), warnings);
    expect(tooLong.flat()).toEqual([{ text: 'A', callback_data: '#1' }]);
    expect(warnings.map((w) => w.problem)).toEqual(['callback-data-too-long', 'callback-data-too-long']);
    for (const b of [...short, ...long, ...tooLong].flat()) expect(Buffer.byteLength(b.callback_data)).toBeLessThanOrEqual(64);
  });

  it('puts unnumbered buttons (Done) on their own last row and marks selected options', () => {
    const rows = renderInlineKeyboard(
      [
        { id: 'sym:fever', label: 'Sốt', number: 1 },
        { id: 'sym:cough', label: 'Ho', number: 2 },
        { id: 'sym:done', label: 'Xong' },
      ],
      new Set(['sym:cough']),
    );
    expect(rows).toEqual([
      [
        { text: 'Sốt', callback_data: 'sym:fever' },
        { text: '✓ Ho', callback_data: 'sym:cough' },
      ],
      [{ text: 'Xong', callback_data: 'sym:done' }],
    ]);
  });

  it('escapes every text for HTML, whoever wrote it', () => {
    expect(escapeHtml('<b>Tôi & bạn</b>')).toBe('&lt;b&gt;Tôi &amp; bạn&lt;/b&gt;');
    const [call] = renderTelegramReplies([{ kind: 'text', text: 'Tên: <script>alert(1)</script> & co' }]);
    expect(call).toMatchObject({ text: 'Tên: &lt;script&gt;alert(1)&lt;/script&gt; &amp; co', parse_mode: 'HTML' });
  });

  it('splits texts over 4096 characters at paragraph boundaries, keeping the keyboard under the last part', () => {
    const para = (c: string) => c.repeat(1500);
    const text = [para('a'), para('b'), para('c'), para('d')].join('\n\n');
    expect(splitText(text)).toEqual([`${para('a')}\n\n${para('b')}`, `${para('c')}\n\n${para('d')}`]);
    const calls = renderTelegramReplies([{ kind: 'choices', text, options: options(2) }]);
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.method === 'sendMessage' && c.text.length <= 4096)).toBe(true);
    expect(calls[0]).not.toHaveProperty('reply_markup');
    expect(calls[1]).toHaveProperty('reply_markup.inline_keyboard');
    const oneWord = 'x'.repeat(9000);
    expect(splitText(oneWord).map((p) => p.length)).toEqual([4096, 4096, 808]);
    expect(splitText('😀'.repeat(3000)).every((p) => !/^[\udc00-\udfff]/.test(p))).toBe(true);
  });

  it('asks for a location with a one-time keyboard button, and for a phone number with a contact button', () => {
    const replies: Reply[] = [
      { kind: 'request-location', text: 'Vị trí của bạn?', buttonLabel: 'Gửi vị trí', skipOption: { id: 'where:skip', label: 'Bỏ qua', number: 1 } },
      { kind: 'request-phone', text: 'Số điện thoại?', buttonLabel: 'Chia sẻ số điện thoại' },
    ];
    const [loc, phone] = renderTelegramReplies(replies);
    expect(loc).toMatchObject({
      text: 'Vị trí của bạn?\n\n1. Bỏ qua',
      reply_markup: { keyboard: [[{ text: 'Gửi vị trí', request_location: true }], [{ text: 'Bỏ qua' }]], one_time_keyboard: true, resize_keyboard: true },
    });
    expect(phone).toMatchObject({ reply_markup: { keyboard: [[{ text: 'Chia sẻ số điện thoại', request_contact: true }]], one_time_keyboard: true } });
  });

  it('sends texts that follow one another as one message, together with the question after them', () => {
    const calls = renderTelegramReplies([
      { kind: 'text', text: 'Đã lưu: Xã Bản Phố' },
      { kind: 'text', text: 'Xin chào!' },
      { kind: 'choices', text: 'Bạn cần gì?', options: options(2) },
      { kind: 'text', text: 'Gõ 0 để quay lại' },
    ]);
    expect(calls.map((c) => c.method === 'sendMessage' && c.text)).toEqual(['Đã lưu: Xã Bản Phố\n\nXin chào!\n\nBạn cần gì?\n\n1. Xã số 1\n2. Xã số 2', 'Gõ 0 để quay lại']);
    expect(calls[0]).toHaveProperty('reply_markup.inline_keyboard');
    expect(calls[1]).toHaveProperty('reply_markup', { remove_keyboard: true });
  });

  it('removes a leftover reply keyboard with plain texts, and sends images with an escaped caption', () => {
    const calls = renderTelegramReplies([
      { kind: 'text', text: 'Đã lưu' },
      { kind: 'image', url: 'https://example.org/qr.png', caption: 'QR <điểm>' },
      { kind: 'image', url: 'https://example.org/big.png', caption: 'c'.repeat(2000) },
    ]);
    expect(calls[0]).toMatchObject({ reply_markup: { remove_keyboard: true } });
    expect(calls[1]).toEqual({ method: 'sendPhoto', photo: 'https://example.org/qr.png', caption: 'QR &lt;điểm&gt;', parse_mode: 'HTML' });
    expect(calls[2]).toEqual({ method: 'sendPhoto', photo: 'https://example.org/big.png', parse_mode: 'HTML' });
    expect(calls[3]).toMatchObject({ method: 'sendMessage', text: 'c'.repeat(2000) });
  });
});

describe('Telegram configuration', () => {
  it('is off without a token, polls without PUBLIC_URL and uses a webhook with it', () => {
    expect(loadConfig({}).telegram).toBeUndefined();
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN }).telegram).toMatchObject({ mode: 'polling', apiRoot: 'https://api.telegram.org', webhookUrl: undefined, webhookSecretDerived: true });
    const hooked = loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN, PUBLIC_URL: 'https://bot.bacha.gov.vn/', TELEGRAM_WEBHOOK_SECRET: 's3cret_-' }).telegram;
    expect(hooked).toMatchObject({ mode: 'webhook', webhookUrl: 'https://bot.bacha.gov.vn/webhooks/telegram', webhookSecret: 's3cret_-', webhookSecretDerived: false });
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN, PUBLIC_URL: 'https://bot.bacha.gov.vn', TELEGRAM_MODE: 'polling' }).telegram?.mode).toBe('polling');
  });

  it('derives a webhook secret from the token when none is set, so the webhook is never open', () => {
    const secret = loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN }).telegram!.webhookSecret;
    expect(secret).toMatch(/^[a-f0-9]{64}$/);
    expect(secret).not.toContain(TOKEN.split(':')[1]);
  });

  it('names each bad Telegram variable, hiding secrets', () => {
    let problems: string[] = [];
    try {
      loadConfig({ TELEGRAM_BOT_TOKEN: 'not-a-token', TELEGRAM_MODE: 'push', TELEGRAM_WEBHOOK_SECRET: 'has spaces!', TELEGRAM_API_ROOT: 'ftp://x' });
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('TELEGRAM_BOT_TOKEN:'))).toMatch(/@BotFather.*value hidden/);
    expect(problems.find((p) => p.startsWith('TELEGRAM_MODE:'))).toMatch(/webhook or polling/);
    expect(problems.find((p) => p.startsWith('TELEGRAM_WEBHOOK_SECRET:'))).toMatch(/value hidden/);
    expect(problems.find((p) => p.startsWith('TELEGRAM_API_ROOT:'))).toMatch(/http\(s\):\/\//);
  });

  it('refuses a webhook Telegram cannot deliver to: http, or a port other than 443, 80, 88, 8443', () => {
    expect(() => loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN, PUBLIC_URL: 'http://bot.example.org' })).toThrow(/PUBLIC_URL: Telegram delivers webhooks only to https/);
    expect(() => loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN, PUBLIC_URL: 'https://bot.example.org:3000' })).toThrow(/ports 443, 80, 88, 8443/);
    // A local Bot API server accepts http webhooks.
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN, PUBLIC_URL: 'http://10.0.0.5:3000', TELEGRAM_API_ROOT: 'http://127.0.0.1:8081' }).telegram?.mode).toBe('webhook');
  });

  it('checks the webhook secret header exactly', () => {
    expect(verifyTelegramSecret('abc', 'abc')).toBe(true);
    expect(verifyTelegramSecret('abd', 'abc')).toBe(false);
    expect(verifyTelegramSecret('abcd', 'abc')).toBe(false);
    expect(verifyTelegramSecret(undefined, 'abc')).toBe(false);
  });
});
