import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trackServer } from './cleanup';

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface RecordedCall {
  method: string;
  payload: Record<string, any>;
  at: number;
  /** Answered with a scripted error (see `fail`). */
  failed?: boolean;
  /** Named in a webhook's HTTP answer and performed by "Telegram" (see `postUpdate`), not requested by the bot. */
  viaWebhookReply?: boolean;
}

/** A webhook's answer to an update, as `postUpdate` saw it. */
export interface WebhookAnswer {
  status: number;
  contentType: string | null;
  body: Record<string, any>;
}

interface Scripted {
  method: string;
  match?: (payload: Record<string, any>) => boolean;
  times: number;
  status: number;
  body: Record<string, unknown>;
}

export const FAKE_BOT = { id: 7000001, is_bot: true, first_name: 'Bắc Hà Covid', username: 'bacha_test_bot' };

/**
 * A small Bot API server speaking Telegram's HTTP protocol (https://core.telegram.org/bots/api#making-requests):
 * `POST /bot<token>/<method>` with a JSON body, answered `{ok, result}` or `{ok:false, error_code, description,
 * parameters}`. It records every call, and answers chosen calls with errors (429 with retry_after, 403, 5xx).
 */
export class FakeBotApi {
  readonly calls: RecordedCall[] = [];
  readonly files = new Map<string, Buffer>();
  private readonly scripted: Scripted[] = [];
  /** False keeps no call (benchmarks with 100,000 messages). */
  recordCalls = true;
  /** Latency of every answer (a slow network or Bot API). */
  delayMs = 0;
  /** Successful sendMessage calls per chat id, and when the first and the last of them were answered. */
  readonly delivered = new Map<string, number>();
  firstDeliveredAt = 0;
  lastDeliveredAt = 0;
  /** Updates served by getUpdates (polling), until confirmed by a higher offset. */
  private pendingUpdates: Array<{ update_id: number }> = [];
  private messageId = 100;
  private readonly holds = new Map<string, Promise<void>>();
  private server!: http.Server;
  url = '';

  constructor(readonly token: string) {}

  static async start(token: string): Promise<FakeBotApi> {
    const fake = new FakeBotApi(token);
    fake.server = http.createServer((req, res) => void fake.serve(req, res));
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    trackServer(() => fake.close());
    return fake;
  }

  /** Answers the next `times` calls of `method` (matching `match`) with this error instead. */
  fail(method: string, error: { status: number; error_code?: number; description: string; parameters?: Record<string, unknown> }, options: { times?: number; match?: (payload: Record<string, any>) => boolean } = {}): void {
    this.scripted.push({
      method,
      match: options.match,
      times: options.times ?? 1,
      status: error.status,
      body: { ok: false, error_code: error.error_code ?? error.status, description: error.description, ...(error.parameters ? { parameters: error.parameters } : {}) },
    });
  }

  /**
   * Holds every answer to `method` (the call is recorded, its answer waits) until the returned function is called:
   * lets a test show that something does not wait for the Bot API, without measuring time.
   */
  hold(method: string): () => void {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(method, released);
    return () => {
      this.holds.delete(method);
      release();
    };
  }

  /** Queues updates for a bot that polls (getUpdates). */
  queueUpdates(...updates: Array<{ update_id: number }>): void {
    this.pendingUpdates.push(...updates);
  }

  /** Forgets every scripted error: the server answers normally again. */
  clearFailures(): void {
    this.scripted.length = 0;
  }

  /**
   * Posts `update` to the bot's webhook as Telegram does, and performs the method a 200 answer names, as Telegram
   * does (https://core.telegram.org/bots/api#making-requests-when-getting-updates): recorded among the calls with
   * `viaWebhookReply`, its result known to nobody.
   */
  async postUpdate(webhookUrl: string, secret: string, update: unknown): Promise<WebhookAnswer> {
    const res = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret }, body: JSON.stringify(update) });
    const contentType = res.headers.get('content-type');
    const text = await res.text();
    const body = (contentType?.startsWith('application/json') && text ? JSON.parse(text) : {}) as Record<string, any>;
    if (res.status === 200 && typeof body.method === 'string') {
      const { method, ...payload } = body;
      if (this.recordCalls) this.calls.push({ method, payload, at: Date.now(), viaWebhookReply: true });
    }
    return { status: res.status, contentType, body };
  }

  /** The calls the bot made as Bot API requests (not those carried in a webhook's answer). */
  requestsOf(method: string, chatId?: string | number): RecordedCall[] {
    return this.callsOf(method, chatId).filter((c) => !c.viaWebhookReply);
  }

  callsOf(method: string, chatId?: string | number): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && (chatId === undefined || String(c.payload.chat_id) === String(chatId)));
  }

  /** The data of the inline button labelled `label` on the last message to `chatId` that has one (what a tap sends). */
  buttonData(chatId: string | number, label: string): string {
    type Markup = { inline_keyboard?: Array<Array<{ text: string; callback_data?: string }>> } | undefined;
    const buttons = this.callsOf('sendMessage', chatId).flatMap((c) => ((c.payload.reply_markup as Markup)?.inline_keyboard ?? []).flat());
    const button = buttons.reverse().find((b) => b.text.includes(label));
    if (!button?.callback_data) throw new Error(`FakeBotApi: no button '${label}' was sent to ${chatId}`);
    return button.callback_data;
  }

  /** Waits until `predicate` holds for the recorded calls (replies are sent after the webhook has answered). */
  async waitFor(predicate: (calls: RecordedCall[]) => boolean, timeoutMs = 30_000): Promise<RecordedCall[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.calls)) {
      if (Date.now() > deadline) throw new Error(`FakeBotApi: condition not met within ${timeoutMs} ms; calls: ${this.calls.map((c) => c.method).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.calls;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (fileMatch) {
      const bytes = fileMatch[1] === this.token ? this.files.get(fileMatch[2]!) : undefined;
      res.writeHead(bytes ? 200 : 404).end(bytes ?? 'Not Found');
      return;
    }
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(url.pathname);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (!m) return send(404, { ok: false, error_code: 404, description: 'Not Found' });
    if (m[1] !== this.token) return send(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = m[2]!;
    const raw = Buffer.concat(chunks);
    const contentType = String(req.headers['content-type'] ?? '');
    // JSON for ordinary calls; multipart/form-data when a file is uploaded (recorded as it came).
    const payload = (
      contentType.startsWith('application/json')
        ? JSON.parse(raw.toString('utf8'))
        : raw.length > 0
          ? { contentType, body: raw.toString('latin1'), ...parseMultipart(contentType, raw) }
          : Object.fromEntries(url.searchParams)
    ) as Record<string, any>;
    const call: RecordedCall = { method, payload, at: Date.now() };
    if (this.recordCalls) this.calls.push(call);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    await this.holds.get(method);
    const scripted = this.scripted.find((s) => s.method === method && s.times > 0 && (!s.match || s.match(payload)));
    if (scripted) {
      scripted.times--;
      call.failed = true;
      return send(scripted.status, scripted.body);
    }
    if (method === 'sendMessage') {
      this.delivered.set(String(payload.chat_id), (this.delivered.get(String(payload.chat_id)) ?? 0) + 1);
      this.lastDeliveredAt = Date.now();
      if (!this.firstDeliveredAt) this.firstDeliveredAt = this.lastDeliveredAt;
    }
    send(200, { ok: true, result: this.resultOf(method, payload) });
  }

  private resultOf(method: string, payload: Record<string, any>): unknown {
    const now = Math.floor(Date.now() / 1000);
    switch (method) {
      case 'getMe':
        return FAKE_BOT;
      case 'sendMessage':
        return { message_id: ++this.messageId, date: now, chat: { id: Number(payload.chat_id), type: Number(payload.chat_id) < 0 ? 'group' : 'private' }, text: payload.text };
      case 'sendPhoto': {
        // An uploaded photo gets a new file id (as Telegram does); one sent by file id keeps it.
        const fileId = typeof payload.photo === 'string' && !payload.photo.startsWith('attach://') ? payload.photo : `photo-${++this.messageId}`;
        return { message_id: ++this.messageId, date: now, chat: { id: Number(payload.chat_id), type: 'private' }, photo: [{ file_id: fileId, file_unique_id: `u-${fileId}`, width: 1, height: 1 }] };
      }
      case 'sendVoice':
        return { message_id: ++this.messageId, date: now, chat: { id: Number(payload.chat_id), type: 'group' }, voice: { file_id: payload.voice, file_unique_id: 'v', duration: 1 } };
      case 'getFile': {
        const path = `photos/${payload.file_id}.jpg`;
        const bytes = this.files.get(path);
        return { file_id: payload.file_id, file_unique_id: `u-${payload.file_id}`, ...(bytes ? { file_size: bytes.length, file_path: path } : {}) };
      }
      case 'getUpdates': {
        // As Telegram: an offset confirms every update below it; the rest are served again.
        if (typeof payload.offset === 'number') this.pendingUpdates = this.pendingUpdates.filter((u) => u.update_id >= payload.offset);
        return this.pendingUpdates.slice(0, payload.limit ?? 100);
      }
      default:
        return true;
    }
  }
}

/**
 * The fields of a multipart/form-data body (how the Bot API receives uploads): text fields as strings, files under
 * `files` by field name with their bytes. Written from RFC 7578, apart from src/.
 */
function parseMultipart(contentType: string, raw: Buffer): Record<string, any> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return {};
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const fields: Record<string, any> = { files: {} as Record<string, { filename: string; bytes: Buffer }> };
  let at = raw.indexOf(delimiter);
  while (at >= 0) {
    const next = raw.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    const part = raw.subarray(at + delimiter.length + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, split).toString('utf8');
    const body = part.subarray(split + 4);
    // Quoted or not (grammY writes `filename=a.png`).
    const param = (key: string) => {
      const m = new RegExp(`(?:^|[;\\s])${key}=(?:"([^"]*)"|([^;\\r\\n]+))`).exec(headers);
      return m ? (m[1] ?? m[2]!) : undefined;
    };
    const name = param('name');
    const filename = param('filename');
    if (name !== undefined) {
      if (filename !== undefined) fields.files[name] = { filename, bytes: Buffer.from(body) };
      else fields[name] = body.toString('utf8');
    }
    at = next;
  }
  return fields;
}
