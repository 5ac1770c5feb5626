import { z } from 'zod';

/*
 * Shapes of the Zalo OA API v3 responses and webhook events we use, written from the documented samples (see
 * /work/shared/research/zalo-oa.md). Every id and timestamp stays a string: numeric ids exceed 2^53. Objects are
 * loose (unknown fields pass) because Zalo adds fields without notice.
 */

/**
 * Ids are strings; a bare number would already have lost digits, so it is refused rather than guessed. Zalo's ids are
 * digits: other characters (a NUL in a forged event) are refused as malformed rather than reaching storage.
 */
export const zaloId = z.string().regex(/^[\w-]{1,64}$/, { message: 'expected a Zalo id (letters, digits, _ or -)' });
/** Timestamps are strings of epoch milliseconds; a number (small enough to be exact) is turned into one. */
export const zaloTimestamp = z.union([z.string().regex(/^\d{1,16}$/), z.number().int().nonnegative()]).transform(String);
/** Counts such as quota.remain come as strings in the samples; some wrappers send numbers. */
const numberish = z.union([z.string(), z.number()]).transform(String);

/** Every OA API answer: `error` 0 and `data`, or `error` != 0 with a message (with HTTP 200). */
export const envelopeSchema = z.looseObject({
  error: z.number().int(),
  message: z.string().optional(),
  data: z.unknown().optional(),
});

export const sendMessageDataSchema = z.looseObject({
  message_id: zaloId,
  user_id: zaloId.optional(),
  sent_time: zaloTimestamp.optional(),
  /** Being removed by Zalo (2026); optional. */
  quota: z.looseObject({ quota_type: z.string().optional(), remain: numberish.optional(), total: numberish.optional() }).optional(),
});
export type SendMessageResult = z.infer<typeof sendMessageDataSchema>;

const sharedInfoSchema = z.looseObject({
  name: z.string().optional(),
  phone: z.string().optional(),
  address: z.string().optional(),
  city: z.string().optional(),
  district: z.string().optional(),
});

export const userDetailDataSchema = z.looseObject({
  user_id: zaloId,
  user_id_by_app: zaloId.optional(),
  display_name: z.string().optional(),
  user_alias: z.string().optional(),
  is_sensitive: z.boolean().optional(),
  /** "DD/MM/YYYY". */
  user_last_interaction_date: z.string().optional(),
  user_is_follower: z.boolean().optional(),
  avatar: z.string().optional(),
  shared_info: sharedInfoSchema.nullish(),
});
export type UserDetail = z.infer<typeof userDetailDataSchema>;

export const uploadImageDataSchema = z.looseObject({ attachment_id: z.string().min(1) });

/** Answers whose success shape is not confirmed (template by phone, article broadcast): anything, even nothing. */
export const anyDataSchema = z.unknown();

/** `article/create` and `article/verify`: an id, or a token to verify (which of the two is not confirmed). */
export const articleRefSchema = z
  .looseObject({ id: z.union([z.string().min(1), z.number()]).optional(), token: z.string().min(1).optional() })
  .refine((d) => d.id !== undefined || d.token !== undefined, { message: 'expected an article id or token' });

/** OAuth v4 token endpoint: `expires_in` is a string of seconds in the official example. */
export const oauthTokenSchema = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.union([z.string().regex(/^\d+$/), z.number().int().positive()]).transform(Number),
});
export const oauthErrorSchema = z.looseObject({
  error: z.union([z.number(), z.string()]).optional(),
  error_name: z.string().optional(),
  error_description: z.string().optional(),
  message: z.string().optional(),
});

// ---- webhook events ---------------------------------------------------------------------------------------

/** What every event carries; enough to verify the signature and route by name. */
export const eventHeadSchema = z.looseObject({
  event_name: z.string().min(1).max(100),
  timestamp: zaloTimestamp,
  app_id: zaloId.optional(),
  oa_id: zaloId.optional(),
});

const party = z.looseObject({ id: zaloId });

const attachmentSchema = z.looseObject({
  type: z.string(),
  payload: z.looseObject({}).nullish(),
});

const userMessageSchema = z.looseObject({
  app_id: zaloId.optional(),
  sender: party,
  recipient: party.optional(),
  user_id_by_app: zaloId.optional(),
  timestamp: zaloTimestamp,
  message: z.looseObject({
    msg_id: zaloId,
    text: z.string().max(20_000).optional(),
    attachments: z.array(attachmentSchema).optional(),
  }),
});

export const userSendTextSchema = userMessageSchema.extend({
  event_name: z.literal('user_send_text'),
  message: userMessageSchema.shape.message.extend({ text: z.string().max(20_000) }),
});

export const imageAttachmentSchema = z.looseObject({
  type: z.literal('image'),
  payload: z.looseObject({ url: z.string().min(1).max(2000), thumbnail: z.string().optional() }),
});

export const userSendImageSchema = userMessageSchema.extend({ event_name: z.literal('user_send_image') });

const coordinate = z.union([z.string(), z.number()]).transform(Number).pipe(z.number().finite());
export const locationAttachmentSchema = z.looseObject({
  type: z.literal('location'),
  payload: z.looseObject({
    coordinates: z.looseObject({ latitude: coordinate.pipe(z.number().min(-90).max(90)), longitude: coordinate.pipe(z.number().min(-180).max(180)) }),
  }),
});
export const userSendLocationSchema = userMessageSchema.extend({ event_name: z.literal('user_send_location') });

/** Stickers, gifs, voice, video, files, links, business cards: things the bot cannot read. */
export const UNREADABLE_USER_EVENTS = [
  'user_send_sticker',
  'user_send_gif',
  'user_send_audio',
  'user_send_video',
  'user_send_file',
  'user_send_link',
  'user_send_business_card',
] as const;
export const userSendOtherSchema = userMessageSchema.extend({ event_name: z.enum(UNREADABLE_USER_EVENTS) });

export const followSchema = z.looseObject({
  event_name: z.enum(['follow', 'unfollow']),
  oa_id: zaloId.optional(),
  follower: party,
  source: z.string().optional(),
  user_id_by_app: zaloId.optional(),
  timestamp: zaloTimestamp,
});

/** Two shapes are documented: a nested `full_address` (newer) and flat address fields (older); both are accepted. */
export const userSubmitInfoSchema = z.looseObject({
  event_name: z.literal('user_submit_info'),
  sender: party,
  recipient: party.optional(),
  timestamp: zaloTimestamp,
  info: z.looseObject({
    name: z.string().max(200).optional(),
    phone: z.string().max(40).optional(),
    user_dob: z.string().optional(),
    gender: z.string().optional(),
    full_address: z.looseObject({}).nullish(),
    address: z.string().optional(),
    city: z.string().optional(),
    district: z.string().optional(),
    ward: z.string().optional(),
  }),
});

export const userWithdrawSchema = z.looseObject({
  event_name: z.literal('user_withdraw'),
  user_id: zaloId,
  user_id_by_app: zaloId.optional(),
  timestamp: zaloTimestamp,
});

/** OA → user echoes: sent by this bot through the API, or typed by an OA admin in the OA inbox. */
export const oaSendSchema = z.looseObject({
  event_name: z.string().startsWith('oa_send_'),
  sender: z.looseObject({ id: zaloId, admin_id: zaloId.optional() }),
  recipient: party,
  timestamp: zaloTimestamp,
  message: z.looseObject({ msg_id: zaloId.optional(), text: z.string().optional() }).optional(),
});
