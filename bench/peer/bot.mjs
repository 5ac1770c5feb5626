/*
 * The peer of `npm run bench:webhook`: the same citizen journey as our bot (/start → language → commune →
 * announcements → main menu → the national-or-station choice → a 14-question health declaration → summary → confirm →
 * the daily-update offer), written
 * the way grammY's documentation teaches it: grammy + @grammyjs/conversations (state in Redis through
 * @grammyjs/storage-redis; @grammyjs/auto-retry for failed Bot API calls, as our bot has) + Express with
 * `webhookCallback`. Like most bots built that way it has no de-duplication of
 * updates, no cross-process lease and no database (the declaration's reference comes from a Redis counter).
 *
 * Environment: BOT_TOKEN, TELEGRAM_API_ROOT, REDIS_URL, WEBHOOK_SECRET, PORT (0 picks a free one), HOST.
 */
import fs from 'node:fs';
import express from 'express';
import { Bot, Keyboard, session, webhookCallback } from 'grammy';
import { conversations, createConversation } from '@grammyjs/conversations';
import { autoRetry } from '@grammyjs/auto-retry';
import { RedisAdapter } from '@grammyjs/storage-redis';
import { Redis } from 'ioredis';

const communes = JSON.parse(fs.readFileSync(new URL('../../localities/bac-ha.json', import.meta.url), 'utf8')).communes.map((c) => ({
  name: c.name,
  keys: [c.name, ...c.aliases].map(fold),
}));

/** Lower case without Vietnamese accents, so that "ban pho" finds "Xã Bản Phố". */
function fold(s) {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/gi, 'd').toLowerCase().replace(/^(xa|thi tran|tt)\s+/, '').trim();
}

const redis = new Redis(process.env.REDIS_URL);
const bot = new Bot(process.env.BOT_TOKEN, { client: { apiRoot: process.env.TELEGRAM_API_ROOT } });
bot.api.config.use(autoRetry());

bot.use(session({ initial: () => ({ language: 'vi', commune: null, announcements: false }), storage: new RedisAdapter({ instance: redis }) }));
bot.use(conversations({ storage: { type: 'key', version: 1, prefix: 'conversation:', adapter: new RedisAdapter({ instance: redis }) } }));

const MENU = 'Bạn cần gì? Gõ số hoặc bấm nút.\n\n1. Khai báo y tế\n2. Báo triệu chứng\n3. Quét mã QR\n4. Thông tin dịch\n5. Dịch vụ công\n6. Đổi xã, thị trấn';
const menuKeyboard = new Keyboard().text('1').text('2').text('3').row().text('4').text('5').text('6').resized();

/** Asks a numbered question until one of the options' numbers is typed; returns the chosen option's index. */
async function choose(conversation, ctx, question, options) {
  const keyboard = new Keyboard();
  options.forEach((_, i) => keyboard.text(String(i + 1)));
  await ctx.reply(`${question}\n\n${options.map((o, i) => `${i + 1}. ${o}`).join('\n')}`, { reply_markup: keyboard.oneTime().resized() });
  const n = await conversation.form.int({
    otherwise: (c) => c.reply(`Gõ một số từ 1 đến ${options.length}.`),
  });
  if (n >= 1 && n <= options.length) return n - 1;
  await ctx.reply(`Gõ một số từ 1 đến ${options.length}.`);
  return choose(conversation, ctx, question, options);
}

/** Asks a question where several options may be chosen ("1 3"); returns the chosen indexes. */
async function chooseMany(conversation, ctx, question, options) {
  await ctx.reply(`${question}\n(Chọn được nhiều mục. Gõ các số, ví dụ: 1 3)\n\n${options.map((o, i) => `${i + 1}. ${o}`).join('\n')}`);
  for (;;) {
    const text = await conversation.form.text();
    const picked = text.split(/[\s,]+/).map(Number);
    if (picked.length > 0 && picked.every((n) => Number.isInteger(n) && n >= 1 && n <= options.length)) return [...new Set(picked)].map((n) => n - 1);
    await ctx.reply(`Gõ các số từ 1 đến ${options.length}, ví dụ: 1 3`);
  }
}

async function onboarding(conversation, ctx) {
  const language = await choose(conversation, ctx, 'Xin chào! Đây là trợ lý phòng chống dịch Covid-19 của huyện Bắc Hà, tỉnh Lào Cai.\n\nBạn dùng tiếng nào? / Which language do you use?', ['Tiếng Việt', 'English']);
  await ctx.reply(`Bạn sống ở xã, thị trấn nào?\n\n${communes.map((c, i) => `${i + 1}. ${c.name}`).join('\n')}`);
  let commune;
  while (!commune) {
    const typed = await conversation.form.text();
    const n = Number(typed);
    commune = Number.isInteger(n) ? communes[n - 1] : communes.find((c) => c.keys.includes(fold(typed)));
    if (!commune) await ctx.reply('Không tìm thấy xã, thị trấn này. Gõ số hoặc tên xã.');
  }
  const announcements = (await choose(conversation, ctx, `Bạn có muốn nhận thông báo của ${commune.name} (tin khẩn và tin chung) không?`, ['Có, nhận thông báo', 'Không'])) === 0;
  await conversation.external((outside) => {
    outside.session.language = language === 0 ? 'vi' : 'en';
    outside.session.commune = commune.name;
    outside.session.announcements = announcements;
  });
  await ctx.reply(`Cảm ơn bạn! Đã lưu: ${commune.name}. Muốn đổi thì chọn “Đổi xã, thị trấn” trong menu.\n\n${MENU}`, { reply_markup: menuKeyboard });
}

async function declaration(conversation, ctx) {
  const commune = await conversation.external((outside) => outside.session.commune);
  const q = (n, text) => `Câu ${n}/14\n${text}`;
  const which = await choose(
    conversation,
    ctx,
    'Có 2 việc khác nhau:\n1. Khai báo y tế toàn dân trên https://tokhaiyte.vn hoặc trong ứng dụng Bluezone: bắt buộc theo kế hoạch.\n2. Báo cho trạm y tế xã: cán bộ xã sẽ xem và gọi lại khi cần.',
    ['Khai báo toàn dân (tokhaiyte.vn, Bluezone)', 'Báo cho trạm y tế xã'],
  );
  if (which === 0) {
    await ctx.reply(`Khai báo y tế toàn dân: mở https://tokhaiyte.vn hoặc ứng dụng Bluezone.\n\n${MENU}`, { reply_markup: menuKeyboard });
    return;
  }
  const who = await choose(conversation, ctx, `Khai báo y tế giúp trạm y tế biết và hỗ trợ bạn. Chỉ mất vài phút. Gõ “huỷ” để dừng.\n\n${q(1, 'Bạn khai cho ai?')}`, ['Cho bản thân tôi', 'Cho người trong gia đình']);
  await ctx.reply(q(2, 'Họ và tên người được khai báo?'));
  const name = await conversation.form.text({ otherwise: (c) => c.reply('Gõ họ và tên.') });
  await ctx.reply(q(3, 'Năm sinh? (ví dụ: 1985)'));
  let birthYear = 0;
  while (birthYear < 1900 || birthYear > new Date().getFullYear()) {
    birthYear = await conversation.form.int({ otherwise: (c) => c.reply('Gõ năm sinh, ví dụ: 1985') });
  }
  const sex = await choose(conversation, ctx, q(4, 'Giới tính?'), ['Nam', 'Nữ', 'Khác']);
  await ctx.reply(q(5, 'Số điện thoại để trạm y tế liên lạc? (Người nhà không có điện thoại thì ghi số của bạn.)'));
  let phone = '';
  while (!/^0\d{9}$/.test(phone)) {
    phone = (await conversation.form.text()).replace(/[\s.-]/g, '');
    if (!/^0\d{9}$/.test(phone)) await ctx.reply('Số điện thoại gồm 10 chữ số, bắt đầu bằng 0.');
  }
  const sameCommune = await choose(conversation, ctx, q(6, `Việc này ở ${commune} phải không?`), [`Đúng, ở ${commune}`, 'Ở xã, thị trấn khác']);
  await ctx.reply(q(8, 'Thôn, bản hoặc địa chỉ nơi đang ở?'));
  const village = await conversation.form.text();
  const symptomNames = ['Sốt', 'Ho', 'Đau họng', 'Khó thở', 'Mất vị giác hoặc khứu giác', 'Mệt mỏi', 'Không có'];
  const symptoms = await chooseMany(conversation, ctx, q(9, 'Trong 14 ngày qua có triệu chứng nào không?'), symptomNames);
  const danger = await chooseMany(conversation, ctx, q(10, 'Bây giờ có dấu hiệu nào sau đây không?'), ['Đau hoặc tức ngực', 'Lơ mơ, khó đánh thức', 'Môi tím tái', 'Không có']);
  const travel = await choose(conversation, ctx, q(11, 'Trong 14 ngày qua có về từ nước ngoài hoặc từ vùng có dịch không?'), ['Có, từ nước ngoài', 'Có, từ vùng có dịch', 'Không']);
  const contact = await choose(conversation, ctx, q(12, 'Có tiếp xúc gần với người nhiễm (F0) hoặc người tiếp xúc gần (F1) không?'), ['Có, với F0', 'Có, với F1', 'Không']);
  const chronic = await chooseMany(conversation, ctx, q(13, 'Có bệnh nền nào không?'), ['Tiểu đường', 'Cao huyết áp', 'Bệnh tim', 'Bệnh phổi', 'Không có']);
  const mayCall = await choose(conversation, ctx, q(14, 'Trạm y tế có thể gọi điện cho bạn không?'), ['Có, được gọi', 'Không']);
  const summary = [
    `• Khai cho: ${who === 0 ? 'Cho bản thân tôi' : 'Cho người trong gia đình'}`,
    `• Họ tên: ${name}`,
    `• Năm sinh: ${birthYear}`,
    `• Giới tính: ${['Nam', 'Nữ', 'Khác'][sex]}`,
    `• Điện thoại: ${phone}`,
    `• Nơi ở: ${village}, ${sameCommune === 0 ? commune : 'xã khác'}`,
    `• Triệu chứng: ${symptoms.map((i) => symptomNames[i]).join(', ')}`,
    `• Dấu hiệu nguy hiểm: ${danger.length}`,
    `• Đi về từ vùng dịch: ${['Nước ngoài', 'Vùng có dịch', 'Không'][travel]}`,
    `• Tiếp xúc: ${['F0', 'F1', 'Không'][contact]}`,
    `• Bệnh nền: ${chronic.length}`,
    `• Được gọi: ${mayCall === 0 ? 'Có' : 'Không'}`,
  ].join('\n');
  const confirm = await choose(conversation, ctx, `Mời kiểm tra lại trước khi gửi:\n\n${summary}`, ['Gửi', 'Sửa', 'Huỷ']);
  if (confirm !== 0) {
    await ctx.reply(`Đã huỷ.\n\n${MENU}`, { reply_markup: menuKeyboard });
    return;
  }
  const reference = await conversation.external(async () => {
    const day = new Date().toISOString().slice(2, 10).replace(/-/g, '');
    return `KB-${day}-${String(await redis.incr(`peer:declarations:${day}`)).padStart(4, '0')}`;
  });
  const daily = await choose(
    conversation,
    ctx,
    `Đã ghi nhận khai báo. Mã số: ${reference}\n\nHãy ở nhà, không tiếp xúc với người khác, đeo khẩu trang. Trạm y tế sẽ gọi cho bạn.\n\nBạn có muốn được nhắc cập nhật sức khoẻ hằng ngày không?`,
    ['Có, nhắc tôi', 'Không'],
  );
  await ctx.reply(`${daily === 0 ? 'Được. Tôi sẽ nhắc bạn mỗi sáng.' : 'Được. Nếu thấy mệt hơn, hãy báo triệu chứng ngay.'}\n\n${MENU}`, { reply_markup: menuKeyboard });
}

bot.use(createConversation(onboarding));
bot.use(createConversation(declaration));

bot.command('start', (ctx) => ctx.conversation.enter('onboarding'));
bot.hears('1', (ctx) => ctx.conversation.enter('declaration'));
bot.on('message', (ctx) => ctx.reply(MENU, { reply_markup: menuKeyboard }));
bot.catch((err) => console.error(`update ${err.ctx.update.update_id}: ${err.error}`));

const app = express();
app.use(express.json());
app.post('/webhooks/telegram', webhookCallback(bot, 'express', { secretToken: process.env.WEBHOOK_SECRET }));
const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`peer bot listening on ${server.address().port}`);
});
process.on('SIGTERM', () => {
  server.close();
  void redis.quit();
});
