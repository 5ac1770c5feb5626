/**
 * Real-shaped Telegram `Update` objects (https://core.telegram.org/bots/api#update), as Telegram posts them to a
 * webhook. Each factory takes the fields a test cares about.
 */

let nextUpdateId = 500_000 + Math.floor(Math.random() * 1_000_000);
let nextMessageId = 1;

export function newUpdateId(): number {
  return nextUpdateId++;
}

const date = () => Math.floor(Date.now() / 1000);

export function person(id: number, firstName = 'Lò Thị', lastName = 'Mai') {
  return { id, is_bot: false, first_name: firstName, last_name: lastName, language_code: 'vi' };
}

function privateChat(id: number) {
  return { id, first_name: 'Lò Thị', last_name: 'Mai', type: 'private' };
}

function groupChat(id: number) {
  return { id, title: 'Trạm y tế xã Bản Phố', type: 'supergroup' };
}

export function textUpdate(chatId: number, text: string, updateId = newUpdateId()) {
  const command = /^\/\w+(@\w+)?/.exec(text);
  return {
    update_id: updateId,
    message: {
      message_id: nextMessageId++,
      from: person(chatId),
      chat: privateChat(chatId),
      date: date(),
      text,
      ...(command ? { entities: [{ offset: 0, length: command[0].length, type: 'bot_command' }] } : {}),
    },
  };
}

export function callbackUpdate(chatId: number, data: string, updateId = newUpdateId(), chat: 'private' | 'group' = 'private', fromId = chatId) {
  return {
    update_id: updateId,
    callback_query: {
      id: `${BigInt(chatId < 0 ? -chatId : chatId) * 1000n + BigInt(updateId % 1000)}`,
      from: person(fromId),
      message: {
        message_id: nextMessageId++,
        from: { id: 7000001, is_bot: true, first_name: 'Bắc Hà Covid', username: 'bacha_test_bot' },
        chat: chat === 'private' ? privateChat(chatId) : groupChat(chatId),
        date: date(),
        text: 'Question',
      },
      chat_instance: '-1234567890',
      data,
    },
  };
}

export function contactUpdate(chatId: number, phone: string, updateId = newUpdateId()) {
  return {
    update_id: updateId,
    message: { message_id: nextMessageId++, from: person(chatId), chat: privateChat(chatId), date: date(), contact: { phone_number: phone, first_name: 'Lò Thị', last_name: 'Mai', user_id: chatId } },
  };
}

export function locationUpdate(chatId: number, latitude: number, longitude: number, updateId = newUpdateId()) {
  return { update_id: updateId, message: { message_id: nextMessageId++, from: person(chatId), chat: privateChat(chatId), date: date(), location: { latitude, longitude } } };
}

export function photoUpdate(chatId: number, fileIds: [string, string, string], caption?: string, updateId = newUpdateId()) {
  const [small, medium, large] = fileIds;
  return {
    update_id: updateId,
    message: {
      message_id: nextMessageId++,
      from: person(chatId),
      chat: privateChat(chatId),
      date: date(),
      photo: [
        { file_id: small, file_unique_id: `${small}-u`, file_size: 1200, width: 90, height: 67 },
        { file_id: large, file_unique_id: `${large}-u`, file_size: 98000, width: 1280, height: 960 },
        { file_id: medium, file_unique_id: `${medium}-u`, file_size: 19000, width: 320, height: 240 },
      ],
      ...(caption ? { caption } : {}),
    },
  };
}

export function groupTextUpdate(chatId: number, fromId: number, text: string, updateId = newUpdateId(), from = person(fromId, 'Hoàng Văn', 'Sơn')) {
  const command = /^\/\w+(@\w+)?/.exec(text);
  return {
    update_id: updateId,
    message: {
      message_id: nextMessageId++,
      from,
      chat: groupChat(chatId),
      date: date(),
      text,
      ...(command ? { entities: [{ offset: 0, length: command[0].length, type: 'bot_command' }] } : {}),
    },
  };
}

export function myChatMemberUpdate(chatId: number, status: 'kicked' | 'member' | 'left', updateId = newUpdateId()) {
  const old = status === 'member' ? 'kicked' : 'member';
  const bot = { id: 7000001, is_bot: true, first_name: 'Bắc Hà Covid', username: 'bacha_test_bot' };
  return {
    update_id: updateId,
    my_chat_member: {
      chat: chatId < 0 ? groupChat(chatId) : privateChat(chatId),
      from: person(Math.abs(chatId)),
      date: date(),
      old_chat_member: { user: bot, status: old },
      new_chat_member: { user: bot, status, ...(status === 'kicked' ? { until_date: 0 } : {}) },
    },
  };
}
