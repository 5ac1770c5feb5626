import { formatChoicesAsText } from '../../engine/contracts';
import type { Reply, ReplyOption } from '../../engine/types';

/** Bot API limits (https://core.telegram.org/bots/api#sendmessage, #inlinekeyboardbutton). */
export const TELEGRAM_LIMITS = {
  /** sendMessage `text`, after entity parsing. */
  messageChars: 4096,
  /** sendPhoto `caption`, after entity parsing. */
  captionChars: 1024,
  /** `callback_data`, in bytes. */
  callbackDataBytes: 64,
  /** Community-observed limits of inline keyboards (larger ones fail with REPLY_MARKUP_TOO_LONG). */
  buttonsPerRow: 8,
  buttonsTotal: 100,
} as const;

/** Roughly how many characters fit across a phone screen in one keyboard row. */
const ROW_CHARS = 30;

export interface InlineButton {
  text: string;
  callback_data: string;
}

export type ReplyMarkup =
  | { inline_keyboard: InlineButton[][] }
  | { keyboard: Array<Array<{ text: string; request_location?: true; request_contact?: true }>>; one_time_keyboard: true; resize_keyboard: true; is_persistent?: false }
  | { remove_keyboard: true };

/** One Bot API call, without the `chat_id` (the sender adds it). */
export type TelegramCall =
  | { method: 'sendMessage'; text: string; parse_mode: 'HTML'; reply_markup?: ReplyMarkup }
  | { method: 'sendPhoto'; photo: string; caption?: string; parse_mode: 'HTML' }
  /** A guidance picture by name: uploaded the first time, then sent by its Telegram file id; `alt` if it is missing. */
  | { method: 'sendPicture'; picture: string; alt: string; caption?: string; parse_mode: 'HTML' }
  | { method: 'sendVoice'; voice: string; caption?: string; parse_mode: 'HTML' }
  | { method: 'sendDocument'; document: string; caption?: string; parse_mode: 'HTML' };

/** What the renderer could not show as asked (logged by the caller, without personal data). */
export interface RenderWarning {
  problem: 'callback-data-too-long' | 'too-many-buttons';
  detail: string;
}

/** Escapes text for parse_mode HTML: every string we send is plain text, whoever wrote it. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Splits a text into parts of at most `max` characters: at paragraph breaks first, then at line breaks, then at
 * spaces, and only as a last resort inside a word (never inside a surrogate pair).
 */
export function splitText(text: string, max: number = TELEGRAM_LIMITS.messageChars): string[] {
  if (text.length <= max) return [text];
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = -1;
    let skip = 0;
    for (const sep of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(sep);
      if (at > 0) {
        cut = at;
        skip = sep.length;
        break;
      }
    }
    if (cut <= 0) {
      cut = max;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
      skip = 0;
    }
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut + skip).replace(/^\n+/, '');
  }
  if (rest.trim() !== '') parts.push(rest);
  return parts.filter((p) => p.trim() !== '');
}

/** True when an option id can go into callback_data unchanged: printable ASCII, 1–64 bytes. */
export function isUsableCallbackData(id: string): boolean {
  return id.length > 0 && id.length <= TELEGRAM_LIMITS.callbackDataBytes && /^[\x20-\x7e]+$/.test(id);
}

/**
 * Lays options out as inline buttons: short labels share a row (at most 8 a row), long ones get a row each;
 * buttons that are not numbered ("Done") get a row of their own at the end. An id that cannot be callback_data
 * becomes `#<number>` (read back as typing that number) or, without a number, no button at all.
 */
export function renderInlineKeyboard(options: ReplyOption[], selected: ReadonlySet<string> = new Set(), warnings: RenderWarning[] = []): InlineButton[][] {
  const rows: InlineButton[][] = [];
  let row: InlineButton[] = [];
  let rowWidest = 0;
  let total = 0;
  const flush = () => {
    if (row.length > 0) rows.push(row);
    row = [];
    rowWidest = 0;
  };
  const numbered = options.filter((o) => o.number !== undefined);
  const others = options.filter((o) => o.number === undefined);
  for (const [i, o] of [...numbered, ...others].entries()) {
    if (total >= TELEGRAM_LIMITS.buttonsTotal) {
      warnings.push({ problem: 'too-many-buttons', detail: `${options.length} options; the first ${TELEGRAM_LIMITS.buttonsTotal} are buttons, all are numbered in the text` });
      break;
    }
    let data = o.id;
    if (!isUsableCallbackData(data)) {
      warnings.push({ problem: 'callback-data-too-long', detail: `option id of ${Buffer.byteLength(o.id)} bytes` });
      if (o.number === undefined) continue;
      data = `#${o.number}`;
    }
    const text = `${selected.has(o.id) ? '✓ ' : ''}${o.label}`;
    const width = [...text].length + 2;
    const ownRow = o.number === undefined;
    if (ownRow || i === numbered.length) flush();
    const widest = Math.max(rowWidest, width);
    if (row.length > 0 && ((row.length + 1) * widest > ROW_CHARS || row.length >= TELEGRAM_LIMITS.buttonsPerRow)) flush();
    row.push({ text, callback_data: data });
    rowWidest = Math.max(rowWidest, width);
    total++;
    if (ownRow) flush();
  }
  flush();
  return rows;
}

function textCalls(text: string, markup?: ReplyMarkup): TelegramCall[] {
  const parts = splitText(text);
  return parts.map((part, i) => ({
    method: 'sendMessage' as const,
    text: escapeHtml(part),
    parse_mode: 'HTML' as const,
    // The keyboard belongs under the last part, next to the question.
    ...(markup && i === parts.length - 1 ? { reply_markup: markup } : {}),
  }));
}

/**
 * Renders the engine's replies as Bot API calls, in order. Texts that come one after another go out as one
 * message, together with the question that follows them ("Saved." + the next question): fewer notifications, and
 * far from Telegram's limit of about one message a second per chat. Choices are the numbered text (typing `2`
 * works) with an inline keyboard; location and phone requests are one-time reply keyboards. Messages without a
 * keyboard carry `remove_keyboard` so that a location/phone keyboard does not linger after its question.
 */
export function renderTelegramReplies(replies: Reply[], warnings: RenderWarning[] = []): TelegramCall[] {
  const asksForKeyboard = replies.some((r) => r.kind === 'request-location' || r.kind === 'request-phone');
  const calls: TelegramCall[] = [];
  let pending: string[] = [];
  const withPending = (text: string) => {
    const joined = [...pending, text].join('\n\n');
    pending = [];
    return joined;
  };
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join('\n\n');
    pending = [];
    calls.push(...textCalls(text, asksForKeyboard ? undefined : { remove_keyboard: true }));
  };
  for (const reply of replies) {
    switch (reply.kind) {
      case 'text':
        if (reply.text.trim() !== '') pending.push(reply.text);
        break;
      case 'choices': {
        const keyboard = renderInlineKeyboard(reply.options, new Set(reply.selected ?? []), warnings);
        calls.push(...textCalls(withPending(formatChoicesAsText(reply)), keyboard.length > 0 ? { inline_keyboard: keyboard } : undefined));
        break;
      }
      case 'image': {
        flush();
        const caption = reply.caption ?? '';
        const fits = caption.length <= TELEGRAM_LIMITS.captionChars;
        calls.push({ method: 'sendPhoto', photo: reply.url, parse_mode: 'HTML', ...(caption && fits ? { caption: escapeHtml(caption) } : {}) });
        if (caption && !fits) pending.push(caption);
        break;
      }
      case 'picture':
        flush();
        calls.push({ method: 'sendPicture', picture: reply.ref, alt: reply.alt, parse_mode: 'HTML', caption: escapeHtml(reply.caption.slice(0, TELEGRAM_LIMITS.captionChars)) });
        break;
      case 'document': {
        // By URL, Telegram fetches PDF (and ZIP, GIF) documents itself (Bot API, sendDocument).
        flush();
        const caption = reply.caption ?? '';
        const fits = caption.length <= TELEGRAM_LIMITS.captionChars;
        calls.push({ method: 'sendDocument', document: reply.url, parse_mode: 'HTML', ...(caption && fits ? { caption: escapeHtml(caption) } : {}) });
        if (caption && !fits) pending.push(caption);
        break;
      }
      case 'request-location': {
        const skip = reply.skipOption;
        const text = skip ? formatChoicesAsText({ kind: 'choices', text: reply.text, options: [skip] }) : reply.text;
        calls.push(
          ...textCalls(withPending(text), {
            keyboard: [[{ text: reply.buttonLabel, request_location: true }], ...(skip ? [[{ text: skip.label }]] : [])],
            one_time_keyboard: true,
            resize_keyboard: true,
          }),
        );
        break;
      }
      case 'voice':
        if (/^https?:\/\//.test(reply.ref)) {
          // Telegram fetches only some audio formats by address: a link always works.
          pending.push(`🎤 ${reply.caption ? `${reply.caption}: ` : ''}${reply.ref}`);
        } else {
          flush();
          calls.push({ method: 'sendVoice', voice: reply.ref, parse_mode: 'HTML', ...(reply.caption ? { caption: escapeHtml(reply.caption.slice(0, TELEGRAM_LIMITS.captionChars)) } : {}) });
        }
        break;
      case 'request-phone':
        calls.push(...textCalls(withPending(reply.text), { keyboard: [[{ text: reply.buttonLabel, request_contact: true }]], one_time_keyboard: true, resize_keyboard: true }));
        break;
      default: {
        const unreachable: never = reply;
        throw new Error(`renderTelegramReplies: unknown reply kind in ${JSON.stringify(unreachable)}`);
      }
    }
  }
  flush();
  return calls;
}
