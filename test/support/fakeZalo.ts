import crypto from 'node:crypto';
import http from 'node:http';
import { trackServer } from './cleanup';
import type { AddressInfo } from 'node:net';

/**
 * A fake of the Zalo OA Open API and of its OAuth v4 token endpoint, written from the documented shapes
 * (/work/shared/research/zalo-oa.md): the bare `access_token` header, the `{error, message, data}` envelope with
 * HTTP 200 on errors, string ids, single-use rotating refresh tokens and the `secret_key` header of the token call.
 * The API lives under `/api`, OAuth under `/oauth`, so that the two roots are configured separately.
 */

export interface SentMessage {
  userId: string;
  message: Record<string, unknown>;
  accessToken: string;
  messageId: string;
  /** When it was accepted (ms since epoch). */
  at: number;
}

export interface OAuthCall {
  headers: http.IncomingHttpHeaders;
  contentType: string | undefined;
  form: Record<string, string>;
}

export const FAKE_APP_ID = '3349222483842580322';
export const FAKE_APP_SECRET = 'app-secret-KJH23kjh4';
export const FAKE_OA_SECRET = 'oa-secret-Zq81mNb3x';
export const FAKE_OA_ID = '4024926008133882615';

export class FakeZalo {
  readonly sent: SentMessage[] = [];
  readonly oauthCalls: OAuthCall[] = [];
  /** Every API request with the access token it carried (refused ones too). */
  readonly apiCalls: Array<{ path: string; accessToken: string; error: number }> = [];
  /** Uploaded images: the multipart body as it came, and the attachment id it was given. */
  readonly uploads: Array<{ contentType: string; size: number; attachmentId: string; body: Buffer }> = [];
  readonly validAccessTokens = new Set<string>();
  /** Refresh token → whether it has been used (single use). */
  readonly refreshTokens = new Map<string, boolean>();
  /** Errors to answer, in order, to the next sends to a user. */
  readonly scriptedErrors = new Map<string, number[]>();
  /** User detail answers by user id. */
  readonly userDetails = new Map<string, Record<string, unknown>>();
  /** Followers who have not interacted in 7 days: consultation messages to them fail with -230. */
  readonly outsideWindow = new Set<string>();
  /** Template messages accepted by phone (`/zbs/message/template`). */
  readonly templates: Array<{ phone: string; templateId: string; data: Record<string, string>; trackingId: string }> = [];
  /** The ZBS side: approved template ids, remaining quota, night-time block, scripted errors by phone. */
  readonly zbs = { approved: new Set<string>(), quota: Infinity, night: false, errorsByPhone: new Map<string, number>() };
  /** OA articles created, and article broadcasts accepted. */
  readonly articles: Array<{ id: string; title: string; body: unknown }> = [];
  readonly articleBroadcasts: Array<{ articleId: string; target: Record<string, unknown> }> = [];
  /** The OA broadcast side: remaining monthly quota and the night-time block. */
  readonly oaBroadcast = { quota: Infinity, night: false };
  oauthDelayMs = 0;
  /** Delay of every message send (a slow Zalo). */
  sendDelayMs = 0;
  private held: Promise<void> | undefined;

  /** Holds the answers to message sends (they are recorded once answered) until the returned function is called. */
  holdSends(): () => void {
    let release!: () => void;
    this.held = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.held = undefined;
      release();
    };
  }
  private seq = 0;
  private waiters: Array<() => void> = [];
  private server: http.Server | null = null;
  url = '';

  constructor(initial: { accessToken: string; refreshToken: string }) {
    this.validAccessTokens.add(initial.accessToken);
    this.refreshTokens.set(initial.refreshToken, false);
  }

  get apiRoot(): string {
    return `${this.url}/api`;
  }

  /** The ZBS template API root (ZALO_TEMPLATE_API_ROOT). */
  get templateRoot(): string {
    return `${this.url}/zbs`;
  }

  get oauthRoot(): string {
    return `${this.url}/oauth`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    trackServer(() => this.stop());
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Messages to one user, texts flattened (attachments as `[template_type]`). */
  textsTo(userId: string): string[] {
    return this.sent.filter((m) => m.userId === userId).map((m) => describeMessage(m.message));
  }

  /** Waits until `count` messages were sent to the user (replies go out after the webhook answered). */
  async waitForMessages(userId: string, count: number, timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.sent.filter((m) => m.userId === userId).length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} messages to ${userId}, got: ${JSON.stringify(this.textsTo(userId))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.textsTo(userId);
  }

  private issuePair(): { access_token: string; refresh_token: string; expires_in: string } {
    const n = ++this.seq;
    const pair = { access_token: `acc-${n}-${crypto.randomBytes(6).toString('hex')}`, refresh_token: `ref-${n}-${crypto.randomBytes(6).toString('hex')}`, expires_in: '90000' };
    this.validAccessTokens.add(pair.access_token);
    this.refreshTokens.set(pair.refresh_token, false);
    return pair;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };

    if (req.method === 'POST' && url.pathname === '/oauth/v4/oa/access_token') {
      const form = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
      this.oauthCalls.push({ headers: req.headers, contentType: req.headers['content-type'], form });
      if (this.oauthDelayMs) await new Promise((r) => setTimeout(r, this.oauthDelayMs));
      if (req.headers['secret_key'] !== FAKE_APP_SECRET || form.app_id !== FAKE_APP_ID) {
        json(200, { error: -14002, error_name: 'Invalid appId', error_description: 'app_id or secret_key is invalid' });
        return;
      }
      const token = form.refresh_token ?? '';
      if (form.grant_type !== 'refresh_token' || this.refreshTokens.get(token) !== false) {
        json(200, { error: -14014, error_name: 'Invalid refresh token', error_description: 'Refresh token is invalid or used' });
        return;
      }
      this.refreshTokens.set(token, true);
      json(200, this.issuePair());
      return;
    }

    if (req.method === 'POST' && url.pathname === '/zbs/message/template') {
      const accessToken = String(req.headers['access_token'] ?? '');
      const body = JSON.parse(raw.toString('utf8')) as { phone?: string; template_id?: string; template_data?: Record<string, string>; tracking_id?: string };
      const phone = String(body.phone ?? '');
      // Error codes of the ZNS table as copied by third parties (not confirmed against Zalo's own page).
      const error = !this.validAccessTokens.has(accessToken)
        ? -124
        : !/^84\d{9}$/.test(phone)
          ? -108
          : this.zbs.errorsByPhone.get(phone) ?? (!this.zbs.approved.has(String(body.template_id)) ? -131 : this.zbs.night ? -133 : this.zbs.quota <= 0 ? -144 : 0);
      this.apiCalls.push({ path: '/zbs/message/template', accessToken, error });
      if (error) {
        json(200, { error, message: `zbs error ${error}` });
        return;
      }
      this.zbs.quota--;
      this.templates.push({ phone, templateId: String(body.template_id), data: body.template_data ?? {}, trackingId: String(body.tracking_id ?? '') });
      json(200, { error: 0, message: 'Success', data: { msg_id: crypto.randomBytes(10).toString('hex'), sent_time: String(Date.now()) } });
      return;
    }

    if (!url.pathname.startsWith('/api/')) {
      json(404, { error: 404, message: 'not found' });
      return;
    }
    const endpoint = url.pathname.slice(4);
    const accessToken = String(req.headers['access_token'] ?? '');
    if (!this.validAccessTokens.has(accessToken)) {
      this.apiCalls.push({ path: endpoint, accessToken, error: -216 });
      json(200, { error: -216, message: 'Access token is invalid' });
      return;
    }

    if (req.method === 'POST' && endpoint === '/v2.0/article/create') {
      const body = JSON.parse(raw.toString('utf8')) as { title?: string; body?: unknown; cover?: { photo_url?: string } };
      const ok = typeof body.title === 'string' && !!body.cover?.photo_url && Array.isArray(body.body);
      this.apiCalls.push({ path: endpoint, accessToken, error: ok ? 0 : -201 });
      if (!ok) {
        json(200, { error: -201, message: 'title, cover and body are required' });
        return;
      }
      const id = crypto.randomBytes(8).toString('hex');
      this.articles.push({ id, title: body.title!, body: body.body });
      json(200, { error: 0, message: 'Success', data: { token: `tok-${id}` } });
      return;
    }

    if (req.method === 'POST' && endpoint === '/v2.0/article/verify') {
      const body = JSON.parse(raw.toString('utf8')) as { token?: string };
      this.apiCalls.push({ path: endpoint, accessToken, error: 0 });
      json(200, { error: 0, message: 'Success', data: { id: String(body.token ?? '').replace(/^tok-/, '') } });
      return;
    }

    if (req.method === 'POST' && endpoint === '/v2.0/oa/message') {
      const body = JSON.parse(raw.toString('utf8')) as { recipient?: { target?: Record<string, unknown> }; message?: { attachment?: { payload?: { elements?: Array<{ attachment_id?: string }> } } } };
      const articleId = body.message?.attachment?.payload?.elements?.[0]?.attachment_id ?? '';
      const error = !this.articles.some((a) => a.id === articleId) ? -201 : this.oaBroadcast.night ? -234 : this.oaBroadcast.quota <= 0 ? -237 : 0;
      this.apiCalls.push({ path: endpoint, accessToken, error });
      if (error) {
        json(200, { error, message: error === -234 ? 'Broadcast is not allowed between 22h and 6h' : error === -237 ? 'Broadcast quota exceeded' : 'article is invalid' });
        return;
      }
      this.oaBroadcast.quota--;
      this.articleBroadcasts.push({ articleId, target: body.recipient?.target ?? {} });
      json(200, { error: 0, message: 'Success', data: { message_id: crypto.randomBytes(10).toString('hex') } });
      return;
    }

    if (req.method === 'POST' && endpoint === '/v3.0/oa/message/cs') {
      const body = JSON.parse(raw.toString('utf8')) as { recipient: { user_id: string }; message: Record<string, unknown> };
      const userId = body.recipient.user_id;
      const scripted = this.scriptedErrors.get(userId)?.shift() ?? (this.outsideWindow.has(userId) ? -230 : undefined);
      this.apiCalls.push({ path: endpoint, accessToken, error: scripted ?? 0 });
      if (scripted) {
        json(200, { error: scripted, message: `scripted error ${scripted}` });
        return;
      }
      if (this.sendDelayMs) await new Promise((r) => setTimeout(r, this.sendDelayMs));
      await this.held;
      const messageId = crypto.randomBytes(10).toString('hex');
      this.sent.push({ userId, message: body.message, accessToken, messageId, at: Date.now() });
      for (const w of this.waiters.splice(0)) w();
      json(200, { data: { quota: { quota_type: 'reply', remain: '8', total: '8' }, message_id: messageId, user_id: userId, sent_time: String(Date.now()) }, error: 0, message: 'Success' });
      return;
    }

    if (req.method === 'GET' && endpoint === '/v3.0/oa/user/detail') {
      this.apiCalls.push({ path: endpoint, accessToken, error: 0 });
      const data = JSON.parse(url.searchParams.get('data') ?? '{}') as { user_id?: string };
      const detail = this.userDetails.get(data.user_id ?? '');
      if (!detail) {
        json(200, { error: -201, message: 'user_id is invalid!' });
        return;
      }
      json(200, { data: detail, error: 0, message: 'Success' });
      return;
    }

    if (req.method === 'POST' && endpoint === '/v2.0/oa/upload/image') {
      this.apiCalls.push({ path: endpoint, accessToken, error: 0 });
      const type = String(req.headers['content-type'] ?? '');
      if (!type.startsWith('multipart/form-data') || !raw.includes('name="file"')) {
        json(200, { error: -201, message: 'file is invalid!' });
        return;
      }
      const attachmentId = crypto.randomBytes(16).toString('base64url');
      this.uploads.push({ contentType: type, size: raw.length, attachmentId, body: Buffer.from(raw) });
      json(200, { data: { attachment_id: attachmentId }, error: 0, message: 'Success' });
      return;
    }

    json(200, { error: -209, message: 'Not supported this api' });
  }
}

export function describeMessage(message: Record<string, unknown>): string {
  const attachment = message.attachment as { payload?: { template_type?: string } } | undefined;
  const parts: string[] = [];
  if (typeof message.text === 'string') parts.push(message.text);
  if (attachment) parts.push(`[${attachment.payload?.template_type ?? 'attachment'}]`);
  return parts.join(' ');
}

// ---- signed webhook events ----------------------------------------------------------------------------------

/** Signs like Zalo: `mac=` + sha256(app_id + raw body + timestamp + OA secret key). Written apart from src/. */
export function zaloSignature(rawBody: string, timestamp: string, secret = FAKE_OA_SECRET, appId = FAKE_APP_ID): string {
  return `mac=${crypto.createHash('sha256').update(`${appId}${rawBody}${timestamp}${secret}`).digest('hex')}`;
}

export async function postZaloEvent(
  baseUrl: string,
  body: Record<string, unknown>,
  options: { signature?: string | null; raw?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const raw = options.raw ?? JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const signature = options.signature === undefined ? zaloSignature(raw, String(body.timestamp)) : options.signature;
  if (signature !== null) headers['x-zevent-signature'] = signature;
  const res = await fetch(`${baseUrl}/webhooks/zalo`, { method: 'POST', headers, body: raw });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/**
 * A Zalo user writes to the OA through the webhook; resolves with everything the bot answered (a reply may be several
 * messages: the rest are let in for a moment after the first).
 */
export async function sayOnZalo(fake: FakeZalo, baseUrl: string, user: string, text: string): Promise<string> {
  const before = fake.textsTo(user).length;
  const posted = await postZaloEvent(baseUrl, zaloEvents.text(user, text));
  if (posted.status !== 200) throw new Error(`the Zalo webhook answered ${posted.status}`);
  await fake.waitForMessages(user, before + 1);
  await new Promise((r) => setTimeout(r, 100));
  return fake.textsTo(user).slice(before).join('\n---\n');
}

/** A new follower of the OA answers the first questions (language, commune) and is at the main menu. */
export async function onboardOnZalo(fake: FakeZalo, baseUrl: string, user: string, commune: string): Promise<void> {
  const posted = await postZaloEvent(baseUrl, zaloEvents.follow(user));
  if (posted.status !== 200) throw new Error(`the Zalo webhook answered ${posted.status}`);
  await fake.waitForMessages(user, 1);
  await sayOnZalo(fake, baseUrl, user, '1');
  const afterCommune = await sayOnZalo(fake, baseUrl, user, commune);
  if (!/(Anh\/Chị|Bạn) cần gì/.test(afterCommune)) await sayOnZalo(fake, baseUrl, user, '2');
}

// Events carry the time they are sent (the webhook refuses timestamps more than 15 minutes from now).
let clock = Date.now();
const nextTimestamp = () => String(++clock);
export const newMsgId = () => crypto.randomBytes(10).toString('hex');
export const newUserId = () => `${BigInt('4558424660619243532') + BigInt(crypto.randomInt(1, 2 ** 40))}`;

/** Real-shaped events (official samples' field names; long string ids; 13-digit string timestamps). */
export const zaloEvents = {
  text: (userId: string, text: string, msgId = newMsgId()) => ({
    app_id: FAKE_APP_ID,
    sender: { id: userId },
    recipient: { id: FAKE_OA_ID },
    user_id_by_app: '552177279717587730',
    event_name: 'user_send_text',
    message: { text, msg_id: msgId },
    timestamp: nextTimestamp(),
  }),
  follow: (userId: string) => ({
    oa_id: FAKE_OA_ID,
    follower: { id: userId },
    event_name: 'follow',
    source: 'oa_profile',
    app_id: FAKE_APP_ID,
    user_id_by_app: '2836211951173838919',
    timestamp: nextTimestamp(),
  }),
  unfollow: (userId: string) => ({ ...zaloEvents.follow(userId), event_name: 'unfollow' }),
  sticker: (userId: string) => ({
    app_id: FAKE_APP_ID,
    sender: { id: userId },
    recipient: { id: FAKE_OA_ID },
    event_name: 'user_send_sticker',
    message: { msg_id: newMsgId(), attachments: [{ type: 'sticker', payload: { id: 'bfe458bf64fa8da4d4eb', url: 'https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid=46991' } }] },
    timestamp: nextTimestamp(),
  }),
  location: (userId: string, latitude: string, longitude: string) => ({
    app_id: FAKE_APP_ID,
    sender: { id: userId },
    recipient: { id: FAKE_OA_ID },
    event_name: 'user_send_location',
    message: { msg_id: newMsgId(), text: '', attachments: [{ type: 'location', payload: { coordinates: { latitude, longitude } } }] },
    timestamp: nextTimestamp(),
  }),
  image: (userId: string, url: string) => ({
    app_id: FAKE_APP_ID,
    sender: { id: userId },
    recipient: { id: FAKE_OA_ID },
    event_name: 'user_send_image',
    message: { msg_id: newMsgId(), text: '', attachments: [{ type: 'image', payload: { url, thumbnail: url.replace('//f6', '//t.f6') } }] },
    timestamp: nextTimestamp(),
  }),
  submitInfoNested: (userId: string, phone: string) => ({
    sender: { id: userId },
    recipient: { id: FAKE_OA_ID },
    event_name: 'user_submit_info',
    app_id: FAKE_APP_ID,
    timestamp: nextTimestamp(),
    info: { name: 'Nguyễn Văn An', phone, user_dob: '30/10/1999', gender: 'Nam', full_address: { user_city: 'Lào Cai', user_ward: 'Bắc Hà', user_address: 'Tổ 1' } },
  }),
  submitInfoFlat: (userId: string, phone: string) => ({
    sender: { id: userId },
    recipient: { id: FAKE_OA_ID },
    event_name: 'user_submit_info',
    app_id: FAKE_APP_ID,
    timestamp: nextTimestamp(),
    info: { address: 'Tổ 1', phone, city: 'Lào Cai', district: 'Bắc Hà', name: 'Nguyễn Văn An', ward: 'Thị trấn Bắc Hà' },
  }),
  withdraw: (userId: string) => ({
    app_id: FAKE_APP_ID,
    oa_id: FAKE_OA_ID,
    user_id_by_app: '2836211951173838919',
    user_id: userId,
    event_name: 'user_withdraw',
    timestamp: nextTimestamp(),
  }),
  oaSendText: (userId: string, msgId: string, adminId?: string) => ({
    event_name: 'oa_send_text',
    app_id: FAKE_APP_ID,
    sender: { id: FAKE_OA_ID, ...(adminId ? { admin_id: adminId } : {}) },
    recipient: { id: userId },
    message: { text: 'Chào anh, em là cán bộ trạm y tế.', msg_id: msgId },
    timestamp: nextTimestamp(),
    user_id_by_app: '7300442764876318465',
  }),
  seen: (userId: string, msgIds: string[]) => ({
    app_id: FAKE_APP_ID,
    sender: { id: FAKE_OA_ID },
    recipient: { id: userId },
    event_name: 'user_seen_message',
    message: { msg_ids: msgIds },
    timestamp: nextTimestamp(),
  }),
  received: (userId: string, msgId: string) => ({
    app_id: FAKE_APP_ID,
    sender: { id: FAKE_OA_ID },
    recipient: { id: userId },
    event_name: 'user_received_message',
    message: { msg_id: msgId },
    timestamp: nextTimestamp(),
  }),
};

/** The environment of a server whose Zalo channel talks to this fake. */
export function zaloEnv(fake: FakeZalo, initial: { accessToken: string; refreshToken: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ZALO_APP_ID: FAKE_APP_ID,
    ZALO_APP_SECRET: FAKE_APP_SECRET,
    ZALO_OA_SECRET_KEY: FAKE_OA_SECRET,
    ZALO_ACCESS_TOKEN: initial.accessToken,
    ZALO_REFRESH_TOKEN: initial.refreshToken,
    ZALO_API_ROOT: fake.apiRoot,
    ZALO_OAUTH_ROOT: fake.oauthRoot,
    ...extra,
  };
}
