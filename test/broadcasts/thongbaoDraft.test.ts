import type { FakeBotApi } from '../support/fakeBotApi';
import { startTelegramServer, type TelegramTestServer } from '../support/telegramServer';
import { groupKey } from '../../src/pipeline/userKey';
import { callbackUpdate, groupTextUpdate, newUpdateId, person } from '../support/telegramUpdates';

const TOKEN = '123456789:AAF1x-thongbao-owner-token-abcdefg';
const SECRET = 'thongbao_owner_secret';
const DISTRICT_GROUP = -1001000000101;
const AUTHOR = 6101;
const OTHER = 6102;

describe('/thongbao belongs to the official who started it', () => {
  let t: TelegramTestServer;
  let bot: FakeBotApi;
  let server: TelegramTestServer['server'];
  let now = Date.now();

  beforeAll(async () => {
    t = await startTelegramServer({ token: TOKEN, secret: SECRET, env: { OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT_GROUP) }, clock: () => now });
    ({ bot, server } = t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const deliver = (update: unknown) => t.send(update);
  const author = (text: string) => deliver(groupTextUpdate(DISTRICT_GROUP, AUTHOR, text, newUpdateId(), person(AUTHOR, 'Vàng Thị', 'Dung')));
  const other = (text: string) => deliver(groupTextUpdate(DISTRICT_GROUP, OTHER, text, newUpdateId(), person(OTHER, 'Giàng A', 'Páo')));
  const texts = () => bot.callsOf('sendMessage', DISTRICT_GROUP).map((c) => String(c.payload.text));
  const toasts = () => bot.callsOf('answerCallbackQuery').map((c) => String(c.payload.text ?? ''));
  const broadcastCount = async () => Number((await server.runtime.db.query<{ n: string }>('SELECT count(*) AS n FROM broadcasts'))[0]!.n);

  it('takes text only from its author, refuses "Gửi" from anyone else, and names the author in the preview', async () => {
    await author('/thongbao');
    await bot.waitFor(() => texts().some((t) => t.includes('Gửi cho xã nào?')));
    await author('tat ca');
    await author('2');
    // Another official chatting in the group does not write the announcement.
    await other('Chiều nay họp giao ban lúc 3 giờ.');
    await author('Lịch tiêm chủng tuần này ở trạm y tế xã.');
    await author('bo qua');
    await bot.waitFor(() => texts().some((t) => t.includes('Xem trước')));
    const preview = texts().find((t) => t.includes('Xem trước'))!;
    expect(preview).toContain('do Vàng Thị Dung soạn');
    expect(preview).toContain('Lịch tiêm chủng tuần này');
    expect(preview).not.toContain('họp giao ban');

    // Someone else starting another draft meanwhile is told who is drafting.
    await other('/thongbao');
    await bot.waitFor(() => texts().some((t) => t.includes('Vàng Thị Dung đang soạn')));

    await deliver(callbackUpdate(DISTRICT_GROUP, bot.buttonData(DISTRICT_GROUP, 'Gửi'), undefined, 'group', OTHER));
    await bot.waitFor(() => toasts().some((t) => t.includes('chỉ người soạn')));
    expect(await broadcastCount()).toBe(0);

    await deliver(callbackUpdate(DISTRICT_GROUP, bot.buttonData(DISTRICT_GROUP, 'Gửi'), undefined, 'group', AUTHOR));
    await bot.waitFor(() => texts().some((t) => t.includes('bắt đầu gửi')));
    expect(await broadcastCount()).toBe(1);
  });

  it('expires a draft 30 minutes after it was started', async () => {
    await author('/thongbao');
    await author('tat ca');
    await author('1');
    await author('Khẩn: tạm dừng chợ phiên ngày mai.');
    await author('bo qua');
    await bot.waitFor(() => texts().filter((t) => t.includes('Xem trước')).length >= 2);
    now += 31 * 60_000;
    await deliver(callbackUpdate(DISTRICT_GROUP, bot.buttonData(DISTRICT_GROUP, 'Gửi'), undefined, 'group', AUTHOR));
    await bot.waitFor(() => toasts().some((t) => t.includes('hết hạn')));
    expect(await broadcastCount()).toBe(1);
    expect((await server.runtime.store.peek(groupKey(String(DISTRICT_GROUP))))?.flow).toBeNull();
  });

  it('keeps the paragraphs of the announcement, takes navigation words as its text, sends only on a tap, and drops the draft on a cancel word', async () => {
    const before = await broadcastCount();
    await author('/thongbao');
    await author('tat ca');
    await author('2');
    const askedEnglish = () => texts().filter((t) => t.includes('Gõ bản tiếng Anh')).length;
    const asked = askedEnglish();
    // "quay lại" is what the official writes here (the Vietnamese text), not a command of citizens' conversations.
    await author('quay lại');
    await bot.waitFor(() => askedEnglish() === asked + 1);
    await author('/thongbao');
    await author('tat ca');
    await author('1');
    await author('Dòng một của thông báo.\nDòng hai của thông báo.');
    await author('bo qua');
    await bot.waitFor(() => texts().some((t) => t.includes('Dòng hai của thông báo')));
    const preview = texts().find((t) => t.includes('Dòng một của thông báo.\nDòng hai của thông báo.'))!;
    expect(preview).toContain('Xem trước');
    // Only a tap on "Gửi" sends: the preview lists no numbers, and a typed answer is told to use the buttons.
    expect(preview).not.toMatch(/\n1\. /);
    await author('1');
    await bot.waitFor(() => texts().some((t) => t.includes('Bấm “Gửi” để gửi')));
    await author('huỷ');
    await bot.waitFor(() => texts().some((t) => t.includes('Đã huỷ thông báo đang soạn')));
    expect((await server.runtime.store.peek(groupKey(String(DISTRICT_GROUP))))?.flow).toBeNull();
    expect(await broadcastCount()).toBe(before);
  });
});
