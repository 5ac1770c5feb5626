import crypto from 'node:crypto';
import type { z } from 'zod';
import type { InboundEvent } from '../../engine/types';
import {
  followSchema,
  imageAttachmentSchema,
  locationAttachmentSchema,
  oaSendSchema,
  UNREADABLE_USER_EVENTS,
  userSendImageSchema,
  userSendLocationSchema,
  userSendOtherSchema,
  userSendTextSchema,
  userSubmitInfoSchema,
  userWithdrawSchema,
} from './zaloSchemas';
import { formatZodIssues } from '../../errors';

/** What a verified webhook event means for us. */
export type ZaloEventMeaning =
  /** Something for the person's conversation (a message, a follow, shared contact info). */
  | { kind: 'citizen'; event: InboundEvent }
  /** A sticker, voice message, file ...: the bot answers "please type or choose a number". */
  | { kind: 'unreadable'; userId: string; eventId: string }
  /** Events about a person, de-duplicated like messages (their id is derived from the user and the timestamp). */
  | { kind: 'unfollow'; userId: string; eventId: string }
  | { kind: 'withdraw'; userId: string; eventId: string }
  /** Shared contact info without a phone number (the user unticked it). */
  | { kind: 'info-without-phone'; userId: string; eventId: string }
  /** A message from the OA to a user: this bot's own, or an OA admin's typed in the OA inbox. */
  | { kind: 'oa-echo'; userId: string; messageId: string | null; text: string | null; adminId: string | null }
  /** Delivery and seen receipts, ZNS events, and events we do not use. */
  | { kind: 'ignored'; eventName: string };

/** The id an event is logged (and de-duplicated) by; for events we do not act on, their name. */
export function eventIdOf(e: ZaloEventMeaning): string {
  switch (e.kind) {
    case 'citizen':
      return e.event.eventId;
    case 'unreadable':
    case 'info-without-phone':
    case 'unfollow':
    case 'withdraw':
      return e.eventId;
    case 'oa-echo':
      return `zalo:echo:${e.messageId ?? 'none'}`;
    case 'ignored':
      return `zalo:${e.eventName}`;
    default: {
      const unreachable: never = e;
      throw new Error(`eventIdOf: unknown Zalo event ${JSON.stringify(unreachable)}`);
    }
  }
}

export type ParseEventResult = { ok: true; meaning: ZaloEventMeaning } | { ok: false; problems: string[] };

const UNREADABLE = new Set<string>(UNREADABLE_USER_EVENTS);

function problemsOf(error: z.ZodError): string[] {
  return formatZodIssues(error.issues);
}

function parseWith<S extends z.ZodType>(schema: S, body: unknown): { ok: true; data: z.infer<S> } | { ok: false; problems: string[] } {
  const r = schema.safeParse(body);
  return r.success ? { ok: true, data: r.data } : { ok: false, problems: problemsOf(r.error) };
}

/**
 * The id of an event that has no msg_id: the same on every redelivery, made of the event name, the user and the
 * timestamp. The user id is hashed because event ids are logged and user ids never are.
 */
export function derivedEventId(eventName: string, userId: string, timestamp: string): string {
  return `zalo:${eventName}:${crypto.createHash('sha256').update(`${userId}:${timestamp}`).digest('hex').slice(0, 24)}`;
}

/**
 * Turns a verified Zalo OA webhook body into what it means. Event ids: `zalo:<msg_id>` for messages; events without
 * a msg_id get one made of the event name, the user and the timestamp (the same on every redelivery).
 */
export function parseZaloEvent(eventName: string, body: unknown): ParseEventResult {
  const base = (userId: string, eventId: string) => ({ channel: 'zalo' as const, userId, eventId });
  switch (eventName) {
    case 'user_send_text': {
      const r = parseWith(userSendTextSchema, body);
      if (!r.ok) return r;
      const e = r.data;
      // "/start <payload>": what a check-in link on a venue's poster makes Zalo send (ZALO_CHECKIN_LINK), like Telegram's.
      const start = /^\/start\s+([A-Za-z0-9_-]{1,64})$/.exec(e.message.text.trim());
      if (start) return { ok: true, meaning: { kind: 'citizen', event: { ...base(e.sender.id, `zalo:${e.message.msg_id}`), kind: 'start', payload: start[1]! } } };
      return { ok: true, meaning: { kind: 'citizen', event: { ...base(e.sender.id, `zalo:${e.message.msg_id}`), kind: 'text', text: e.message.text } } };
    }
    case 'user_send_image': {
      const r = parseWith(userSendImageSchema, body);
      if (!r.ok) return r;
      const e = r.data;
      const image = (e.message.attachments ?? []).map((a) => imageAttachmentSchema.safeParse(a)).find((a) => a.success);
      if (!image?.success) return { ok: false, problems: ['message.attachments: no image attachment with a payload.url'] };
      const caption = e.message.text?.trim();
      return {
        ok: true,
        meaning: { kind: 'citizen', event: { ...base(e.sender.id, `zalo:${e.message.msg_id}`), kind: 'photo', fileRef: image.data.payload.url, ...(caption ? { caption } : {}) } },
      };
    }
    case 'user_send_location': {
      const r = parseWith(userSendLocationSchema, body);
      if (!r.ok) return r;
      const e = r.data;
      const loc = (e.message.attachments ?? []).map((a) => locationAttachmentSchema.safeParse(a)).find((a) => a.success);
      if (!loc?.success) return { ok: false, problems: ['message.attachments: no location attachment with payload.coordinates.latitude/longitude'] };
      const { latitude, longitude } = loc.data.payload.coordinates;
      return { ok: true, meaning: { kind: 'citizen', event: { ...base(e.sender.id, `zalo:${e.message.msg_id}`), kind: 'location', latitude, longitude } } };
    }
    case 'follow': {
      const r = parseWith(followSchema, body);
      if (!r.ok) return r;
      const e = r.data;
      return { ok: true, meaning: { kind: 'citizen', event: { ...base(e.follower.id, derivedEventId('follow', e.follower.id, e.timestamp)), kind: 'start' } } };
    }
    case 'unfollow': {
      const r = parseWith(followSchema, body);
      if (!r.ok) return r;
      return { ok: true, meaning: { kind: 'unfollow', userId: r.data.follower.id, eventId: derivedEventId('unfollow', r.data.follower.id, r.data.timestamp) } };
    }
    case 'user_submit_info': {
      const r = parseWith(userSubmitInfoSchema, body);
      if (!r.ok) return r;
      const e = r.data;
      const eventId = derivedEventId('user_submit_info', e.sender.id, e.timestamp);
      const phone = e.info.phone?.trim();
      const name = e.info.name?.trim();
      if (!phone) return { ok: true, meaning: { kind: 'info-without-phone', userId: e.sender.id, eventId } };
      return { ok: true, meaning: { kind: 'citizen', event: { ...base(e.sender.id, eventId), kind: 'contact', phone, ...(name ? { name } : {}) } } };
    }
    case 'user_withdraw': {
      const r = parseWith(userWithdrawSchema, body);
      if (!r.ok) return r;
      return { ok: true, meaning: { kind: 'withdraw', userId: r.data.user_id, eventId: derivedEventId('user_withdraw', r.data.user_id, r.data.timestamp) } };
    }
    default:
      break;
  }
  if (eventName === 'user_send_audio') {
    // A voice message becomes a call-back question; its recording is the attachment's URL (shape as other media).
    const r = parseWith(userSendOtherSchema, body);
    if (!r.ok) return r;
    const audio = r.data.message.attachments?.find((a) => a.type === 'audio' || a.type === 'voice');
    const url = audio?.payload && typeof (audio.payload as { url?: unknown }).url === 'string' ? String((audio.payload as { url: string }).url) : null;
    if (url) return { ok: true, meaning: { kind: 'citizen', event: { channel: 'zalo', userId: r.data.sender.id, eventId: `zalo:${r.data.message.msg_id}`, kind: 'voice', fileRef: url } } };
  }
  if (UNREADABLE.has(eventName)) {
    const r = parseWith(userSendOtherSchema, body);
    if (!r.ok) return r;
    return { ok: true, meaning: { kind: 'unreadable', userId: r.data.sender.id, eventId: `zalo:${r.data.message.msg_id}` } };
  }
  if (eventName.startsWith('oa_send_')) {
    const r = parseWith(oaSendSchema, body);
    if (!r.ok) return r;
    const e = r.data;
    return { ok: true, meaning: { kind: 'oa-echo', userId: e.recipient.id, messageId: e.message?.msg_id ?? null, text: e.message?.text ?? null, adminId: e.sender.admin_id ?? null } };
  }
  return { ok: true, meaning: { kind: 'ignored', eventName } };
}
