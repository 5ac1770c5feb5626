import { formatChoicesAsText } from '../../engine/contracts';
import type { Locale, Reply } from '../../engine/types';
import type { PictureFiles } from '../../guidance/GuidancePictures';

/** Longest text of one consultation message (official: "Giới hạn tối đa là 2.000 ký tự"). */
export const ZALO_TEXT_MAX = 2000;

/**
 * Longest message the bot sends on Zalo for reading on a small phone: a longer reply (a procedure card, the Bluezone
 * steps) goes as several messages, cut at paragraph breaks first.
 */
export const ZALO_READABLE_MAX = 600;

/** One consultation message to send. */
export type ZaloOutgoing =
  | { kind: 'text'; text: string }
  /** `source` is a public URL or a `data:image/png|jpeg;base64,` URL (uploaded first). */
  | { kind: 'image'; source: string; caption?: string }
  /** The `request_user_info` template: the person shares name and phone with one tap. */
  | { kind: 'request-info'; title: string; subtitle: string };

/** Texts of the Zalo channel itself, in `locales/<lang>/zalo.json`. */
export const ZALO_TEXT_KEYS = ['zalo.unreadable', 'zalo.locationHow', 'zalo.phoneHow', 'zalo.phoneCardTitle', 'zalo.phoneCardSubtitle', 'zalo.infoWithoutPhone'] as const;
export type ZaloTextKey = (typeof ZALO_TEXT_KEYS)[number];

/**
 * Splits a text into pieces of at most `max` UTF-16 units (stricter than characters), preferring paragraph breaks,
 * then line breaks, then spaces; never inside a surrogate pair.
 */
export function splitZaloText(text: string, max = ZALO_TEXT_MAX): string[] {
  const pieces: string[] = [];
  let rest = text.normalize('NFC').trim();
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = -1;
    for (const sep of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(sep, max);
      if (at > max / 2) {
        cut = at;
        break;
      }
    }
    if (cut === -1) {
      cut = max;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    }
    pieces.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0) pieces.push(rest);
  return pieces;
}

function texts(text: string): ZaloOutgoing[] {
  return splitZaloText(text, ZALO_READABLE_MAX).map((t) => ({ kind: 'text' as const, text: t }));
}

/**
 * Renders the engine's replies as Zalo consultation messages. Choices are numbered text menus (typing the number
 * answers), because button templates in consultation messages are not confirmed to work; a phone request is a text
 * plus the `request_user_info` card; a location request explains where Zalo's "Location" button is. A guidance
 * picture becomes an image to upload (its text when this server does not have it).
 */
export function renderZaloReplies(replies: Reply[], t: (key: ZaloTextKey) => string, pictures?: PictureFiles): ZaloOutgoing[] {
  const out: ZaloOutgoing[] = [];
  for (const reply of replies) {
    switch (reply.kind) {
      case 'text':
        out.push(...texts(reply.text));
        break;
      case 'choices':
        out.push(...texts(formatChoicesAsText(reply)));
        break;
      case 'image':
        if (reply.caption && reply.caption.length > ZALO_TEXT_MAX) {
          out.push({ kind: 'image', source: reply.url });
          out.push(...texts(reply.caption));
        } else out.push({ kind: 'image', source: reply.url, ...(reply.caption ? { caption: reply.caption } : {}) });
        break;
      case 'picture': {
        // Uploaded, then sent by attachment id (the client keeps the id for a picture it uploaded before).
        const file = pictures?.file(reply.ref);
        if (file) out.push({ kind: 'image', source: `data:${file.contentType};base64,${file.bytes.toString('base64')}`, caption: reply.caption });
        else out.push(...texts(reply.alt));
        break;
      }
      case 'document': {
        // Consultation messages carry pictures, not files: the picture, then the file's link to download and print.
        if (reply.imageUrl) out.push({ kind: 'image', source: reply.imageUrl });
        out.push(...texts(reply.caption ? `${reply.caption}\n${reply.url}` : reply.url));
        break;
      }
      case 'request-location': {
        const question = `${reply.text}\n\n${t('zalo.locationHow')}`;
        out.push(...texts(reply.skipOption ? formatChoicesAsText({ kind: 'choices', text: question, options: [reply.skipOption] }) : question));
        break;
      }
      case 'voice':
        // Zalo plays no recording we could pass on: the link, for whoever reads it (officials are on Telegram).
        out.push(...texts(`🎤 ${reply.caption ? `${reply.caption}: ` : ''}${reply.ref}`));
        break;
      case 'request-phone':
        out.push(...texts(`${reply.text}\n\n${t('zalo.phoneHow')}`));
        out.push({ kind: 'request-info', title: t('zalo.phoneCardTitle'), subtitle: t('zalo.phoneCardSubtitle') });
        break;
      default: {
        const never: never = reply;
        throw new Error(`renderZaloReplies: unknown reply kind ${JSON.stringify(never)}`);
      }
    }
  }
  return out;
}

export type ZaloTranslate = (locale: Locale, key: ZaloTextKey) => string;
