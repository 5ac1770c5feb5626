import crypto from 'node:crypto';
import type { z } from 'zod';
import type { Logger } from '../../logger';
import { describeError, formatZodIssues } from '../../errors';
import { sleep } from '../../util/sleep';
import { reportOutboundAttempt } from '../../metrics/outboundEvents';
import type { RateLimiter } from '../../util/RateLimiter';
import type { ZaloTokenManager } from './ZaloTokens';
import {
  envelopeSchema,
  sendMessageDataSchema,
  uploadImageDataSchema,
  anyDataSchema,
  articleRefSchema,
  userDetailDataSchema,
  type SendMessageResult,
  type UserDetail,
} from './zaloSchemas';

/** Error codes of the OA API that change what we do (appendix `phu-luc/ma-loi`). */
export const ZALO_ERROR = {
  /** attachment_id was expired (uploads live about 7 days). */
  ATTACHMENT_EXPIRED: -100,
  RATE_LIMITED: -32,
  INVALID_PARAMETER: -201,
  NOT_FOLLOWER: -213,
  ACCESS_TOKEN_INVALID: -216,
  ACCESS_TOKEN_EXPIRED: -220,
  NO_INTERACTION_7_DAYS: -230,
  INTERACTION_EXPIRED: -232,
} as const;

/** Zalo answered (usually with HTTP 200) with `error != 0`. */
export class ZaloApiError extends Error {
  constructor(
    readonly endpoint: string,
    readonly code: number,
    readonly zaloMessage: string,
  ) {
    super(`Zalo OA API ${endpoint} answered error ${code}: ${zaloMessage}${hintFor(code)}`);
    this.name = 'ZaloApiError';
  }

  /** The person has not interacted with the OA in the past 7 days: consultation messages are not allowed. */
  get isOutsideWindow(): boolean {
    return this.code === ZALO_ERROR.NO_INTERACTION_7_DAYS || this.code === ZALO_ERROR.INTERACTION_EXPIRED;
  }

  get isNotFollower(): boolean {
    return this.code === ZALO_ERROR.NOT_FOLLOWER;
  }
}

function hintFor(code: number): string {
  switch (code) {
    case ZALO_ERROR.ACCESS_TOKEN_INVALID:
    case ZALO_ERROR.ACCESS_TOKEN_EXPIRED:
      return ' (the access token was renewed once and still refused: check ZALO_APP_ID and the stored tokens)';
    case ZALO_ERROR.RATE_LIMITED:
      return ' (the OA reached its API limit; lower ZALO_RATE_LIMIT_PER_MINUTE if this repeats)';
    case -204:
    case -205:
      return ' (the Official Account is disabled or does not exist: check it at oa.zalo.me)';
    case -209:
    case -212:
    case -223:
      return ' (the app is not allowed this API: in developers.zalo.me → your app → Official Account, grant the OA permissions)';
    default:
      return '';
  }
}

/** The API could not be reached, or answered something that is not the documented envelope. */
export class ZaloTransportError extends Error {
  constructor(
    readonly endpoint: string,
    message: string,
  ) {
    super(`Zalo OA API ${endpoint}: ${message}`);
    this.name = 'ZaloTransportError';
  }
}

export interface ZaloApiClientOptions {
  apiRoot: string;
  tokens: ZaloTokenManager;
  /** The OA-wide limit on API calls, shared by every process. */
  limiter: RateLimiter;
  log: Logger;
  timeoutMs?: number;
  /** First wait after -32; doubles for each of up to `rateLimitRetries` retries. */
  backoffMs?: number;
  rateLimitRetries?: number;
  /** Longest wait for a slot under the OA-wide limiter before failing. */
  maxQueueMs?: number;
}

type Attachment = Record<string, unknown>;

/** An uploaded image's id lives about 7 days (research notes); reused for 6. */
const UPLOAD_REUSE_MS = 6 * 24 * 3600_000;
const MAX_REMEMBERED_UPLOADS = 200;

/** A consultation message: text, an attachment, or both. */
export interface CsMessage {
  text?: string;
  attachment?: Attachment;
}

/**
 * A small typed client of the OA Open API (v3 messages, v3 user detail, v2 upload). Every answer is checked with zod;
 * `error != 0` becomes a `ZaloApiError`. Calls pass the OA-wide limiter; -216/-220 renew the token once and retry
 * once; -32 backs off and retries a few times.
 */
export class ZaloApiClient {
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly rateLimitRetries: number;
  private readonly maxQueueMs: number;
  /** Attachment ids of images uploaded before, by the bytes' hash, with when they were uploaded. */
  private readonly uploaded = new Map<string, { id: string; at: number; bytes: Uint8Array; fileName: string; contentType: 'image/jpeg' | 'image/png' }>();

  constructor(private readonly options: ZaloApiClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.rateLimitRetries = options.rateLimitRetries ?? 3;
    this.maxQueueMs = options.maxQueueMs ?? 60_000;
  }

  /** `POST /v3.0/oa/message/cs` */
  sendCsMessage(userId: string, message: CsMessage): Promise<SendMessageResult> {
    return this.call('/v3.0/oa/message/cs', sendMessageDataSchema, () => ({ method: 'POST', json: { recipient: { user_id: userId }, message } }));
  }

  sendText(userId: string, text: string): Promise<SendMessageResult> {
    return this.sendCsMessage(userId, { text });
  }

  /**
   * The `media` template, by public URL or by an uploaded image's `attachment_id`. An id that expired early (-100)
   * of an image this client uploaded is uploaded again and the message sent once more.
   */
  async sendImage(userId: string, image: { url: string } | { attachmentId: string }, caption?: string): Promise<SendMessageResult> {
    const send = (element: Record<string, string>) =>
      this.sendCsMessage(userId, {
        ...(caption ? { text: caption } : {}),
        attachment: { type: 'template', payload: { template_type: 'media', elements: [element] } },
      });
    if ('url' in image) return send({ media_type: 'image', url: image.url });
    try {
      return await send({ media_type: 'image', attachment_id: image.attachmentId });
    } catch (err) {
      const entry = [...this.uploaded.entries()].find(([, u]) => u.id === image.attachmentId);
      if (!(err instanceof ZaloApiError) || err.code !== ZALO_ERROR.ATTACHMENT_EXPIRED || !entry) throw err;
      this.uploaded.delete(entry[0]);
      const fresh = await this.uploadImage(entry[1].bytes, entry[1].fileName, entry[1].contentType);
      return send({ media_type: 'image', attachment_id: fresh });
    }
  }

  /** The `request_user_info` template; the answer arrives as a `user_submit_info` event. */
  requestUserInfo(userId: string, element: { title: string; subtitle: string; imageUrl?: string }): Promise<SendMessageResult> {
    return this.sendCsMessage(userId, {
      attachment: {
        type: 'template',
        payload: {
          template_type: 'request_user_info',
          elements: [{ title: element.title, subtitle: element.subtitle, ...(element.imageUrl ? { image_url: element.imageUrl } : {}) }],
        },
      },
    });
  }

  /**
   * An approved ZBS/ZNS template message to a phone number (`POST <template root>/message/template`, body
   * `{phone, template_id, template_data, tracking_id}`). The success shape is not confirmed: any `data` is accepted.
   */
  sendTemplateByPhone(templateRoot: string, phone: string, templateId: string, templateData: Record<string, string>, trackingId: string): Promise<unknown> {
    return this.call(`${templateRoot}/message/template`, anyDataSchema, () => ({ method: 'POST', json: { phone, template_id: templateId, template_data: templateData, tracking_id: trackingId } }));
  }

  /**
   * Creates an OA article (`POST /v2.0/article/create`) and returns its id. Not confirmed: whether the id comes back
   * at once (`data.id`) or only a token to resolve with `POST /v2.0/article/verify` (`data.token` → `data.id`); both
   * are handled.
   */
  async createArticle(article: { title: string; author: string; coverUrl: string; description: string; paragraphs: string[] }): Promise<string> {
    const created = await this.call('/v2.0/article/create', articleRefSchema, () => ({
      method: 'POST',
      json: {
        type: 'normal',
        title: article.title,
        author: article.author,
        cover: { cover_type: 'photo', photo_url: article.coverUrl, status: 'show' },
        description: article.description,
        body: article.paragraphs.map((content) => ({ type: 'text', content })),
        status: 'show',
        comment: 'hide',
      },
    }));
    if (created.id !== undefined) return String(created.id);
    const token = created.token!;
    const verified = await this.call('/v2.0/article/verify', articleRefSchema, () => ({ method: 'POST', json: { token } }));
    if (verified.id === undefined) throw new ZaloTransportError('/v2.0/article/verify', 'success answer without an article id');
    return String(verified.id);
  }

  /** Broadcasts an article to the OA's followers in the given cities (`POST /v2.0/oa/message`, `recipient.target`). */
  broadcastArticle(articleId: string, cities: string): Promise<unknown> {
    return this.call('/v2.0/oa/message', anyDataSchema, () => ({
      method: 'POST',
      json: {
        recipient: { target: { cities } },
        message: { attachment: { type: 'template', payload: { template_type: 'media', elements: [{ media_type: 'article', attachment_id: articleId }] } } },
      },
    }));
  }

  /** `GET /v3.0/oa/user/detail?data={"user_id":...}` */
  getUserDetail(userId: string): Promise<UserDetail> {
    const data = encodeURIComponent(JSON.stringify({ user_id: userId }));
    return this.call(`/v3.0/oa/user/detail`, userDetailDataSchema, () => ({ method: 'GET', query: `data=${data}` }));
  }

  /**
   * `POST /v2.0/oa/upload/image` (jpg/png up to 1 MB, multipart field `file`); the id lives about 7 days, so the same
   * bytes uploaded again within 6 days get the id of the first upload (guidance pictures are sent to many people).
   */
  async uploadImage(bytes: Uint8Array, fileName: string, contentType: 'image/jpeg' | 'image/png'): Promise<string> {
    const key = crypto.createHash('sha256').update(bytes).digest('hex');
    const known = this.uploaded.get(key);
    if (known && Date.now() - known.at < UPLOAD_REUSE_MS) return known.id;
    const result = await this.call('/v2.0/oa/upload/image', uploadImageDataSchema, () => {
      const form = new FormData();
      form.append('file', new Blob([bytes], { type: contentType }), fileName);
      return { method: 'POST', form };
    });
    // Only pictures sent to many people come back; a photo seen once would only take memory: keep a bounded set.
    if (this.uploaded.size >= MAX_REMEMBERED_UPLOADS) this.uploaded.delete(this.uploaded.keys().next().value!);
    this.uploaded.set(key, { id: result.attachment_id, at: Date.now(), bytes, fileName, contentType });
    return result.attachment_id;
  }

  private async call<S extends z.ZodType>(
    endpoint: string,
    dataSchema: S,
    build: () => { method: 'GET' | 'POST'; json?: unknown; form?: FormData; query?: string },
  ): Promise<z.infer<S>> {
    let renewed = false;
    let rateRetries = 0;
    for (;;) {
      await this.waitForSlot(endpoint);
      const token = await this.options.tokens.accessToken();
      const { status, body } = await this.request(endpoint, token, build());
      const envelope = envelopeSchema.safeParse(body);
      reportOutboundAttempt({ channel: 'zalo', method: endpoint, status: envelope.success ? (envelope.data.error === 0 ? 'ok' : String(envelope.data.error)) : `http-${status}`, retry: renewed || rateRetries > 0 });
      if (!envelope.success) throw new ZaloTransportError(endpoint, `HTTP ${status} with an answer that is not the documented envelope ({error, message, data})`);
      const { error, message } = envelope.data;
      if (error === 0) {
        const data = dataSchema.safeParse(envelope.data.data);
        if (!data.success) {
          const problems = formatZodIssues(data.error.issues, 'data').join('; ');
          throw new ZaloTransportError(endpoint, `success answer with an unexpected shape (${problems})`);
        }
        return data.data as z.infer<S>;
      }
      if ((error === ZALO_ERROR.ACCESS_TOKEN_INVALID || error === ZALO_ERROR.ACCESS_TOKEN_EXPIRED) && !renewed) {
        renewed = true;
        this.options.log.warn({ endpoint, code: error }, 'zalo: access token refused; renewing it and retrying once');
        await this.options.tokens.refresh(token);
        continue;
      }
      if (error === ZALO_ERROR.RATE_LIMITED && rateRetries < this.rateLimitRetries) {
        const wait = this.backoffMs * 2 ** rateRetries * (0.75 + Math.random() * 0.5);
        rateRetries++;
        this.options.log.warn({ endpoint, waitMs: Math.round(wait), attempt: rateRetries }, 'zalo: API limit reached (-32); backing off');
        await this.options.limiter.penalize(wait);
        continue;
      }
      throw new ZaloApiError(endpoint, error, message ?? '');
    }
  }

  private async waitForSlot(endpoint: string): Promise<void> {
    const wait = await this.options.limiter.tryReserve(this.maxQueueMs);
    if (wait === null) throw new ZaloTransportError(endpoint, `more than ${this.maxQueueMs} ms of calls are queued under ZALO_RATE_LIMIT_PER_MINUTE; not sent`);
    if (wait > 0) await sleep(wait);
  }

  private async request(
    endpoint: string,
    token: string,
    req: { method: 'GET' | 'POST'; json?: unknown; form?: FormData; query?: string },
  ): Promise<{ status: number; body: unknown }> {
    const root = /^https?:\/\//.test(endpoint) ? '' : this.options.apiRoot;
    const url = `${root}${endpoint}${req.query ? `?${req.query}` : ''}`;
    const headers: Record<string, string> = { access_token: token };
    let body: string | FormData | undefined;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.form) body = req.form;
    // Zalo's own 5xx (or a proxy's) means the call was not handled: one retry is safe.
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { method: req.method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (err) {
        reportOutboundAttempt({ channel: 'zalo', method: endpoint, status: 'network', retry: attempt > 0 });
        throw new ZaloTransportError(endpoint, `cannot reach ${this.options.apiRoot} (${describeError(err).message}); check the network and ZALO_API_ROOT`);
      }
      const text = await res.text();
      if (res.status >= 500 && attempt === 0) {
        await sleep(500);
        continue;
      }
      try {
        return { status: res.status, body: JSON.parse(text) };
      } catch {
        throw new ZaloTransportError(endpoint, `HTTP ${res.status} with an answer that is not JSON`);
      }
    }
  }
}
