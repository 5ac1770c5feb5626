import { autoRetry } from '@grammyjs/auto-retry';
import { Api, GrammyError, HttpError, InputFile } from 'grammy';
import type { TelegramConfig } from '../../config';
import { createTelegramAttemptReporter } from '../../metrics/outboundEvents';
import { createBotApiFetch } from './botApiFetch';
import type { PictureFiles } from '../../guidance/GuidancePictures';
import { escapeHtml, type TelegramCall } from './renderTelegramReplies';

export interface RetryPolicy {
  /** A 429 asking to wait longer than this fails at once instead of waiting. */
  maxDelaySeconds: number;
  /** Retries of one call after 429 and 5xx answers (network errors are bounded by the call's deadline). */
  maxRetryAttempts: number;
}

/**
 * Replies to an update are sent while the user's lease is held (so that they keep their order), so they must
 * finish well within the lease: short waits, few retries, a deadline per batch.
 */
export const REPLY_RETRY: RetryPolicy = { maxDelaySeconds: 5, maxRetryAttempts: 3 };
export const REPLY_DEADLINE_MS = 10_000;
/** Notices and broadcasts run outside any request and may wait out longer rate limits. */
export const PUSH_RETRY: RetryPolicy = { maxDelaySeconds: 60, maxRetryAttempts: 6 };
export const PUSH_DEADLINE_MS = 180_000;

/**
 * A grammY `Api` client for the configured Bot API server. With a retry policy, grammY's auto-retry honours
 * `retry_after` on 429 and retries 5xx and network errors with exponential backoff (3 s, 6 s, ...).
 * auto-retry retries network errors until the call's AbortSignal fires, so every call must carry a deadline.
 */
export function createTelegramApi(config: Pick<TelegramConfig, 'token' | 'apiRoot'>, retry?: RetryPolicy): Api {
  const api = new Api(config.token, { apiRoot: config.apiRoot, fetch: createBotApiFetch() });
  // Before auto-retry, so that it reports every attempt (metrics).
  api.config.use(createTelegramAttemptReporter());
  if (retry) api.config.use(autoRetry({ maxDelaySeconds: retry.maxDelaySeconds, maxRetryAttempts: retry.maxRetryAttempts }));
  return api;
}

/** grammY's Node build types signals with the `abort-controller` package; Node's own AbortSignal works at run time. */
export type ApiSignal = NonNullable<Parameters<Api['getMe']>[0]>;

export function asApiSignal(signal: AbortSignal): ApiSignal {
  return signal as unknown as ApiSignal;
}

/** A signal that aborts the call (and auto-retry's waits) after `ms`. */
export function deadline(ms: number): ApiSignal {
  return asApiSignal(AbortSignal.timeout(ms));
}

/** Bot API answers meaning "this chat can no longer be messaged" (blocked, deleted account, removed from group). */
export function unreachableReason(err: unknown): string | null {
  if (!(err instanceof GrammyError)) return null;
  if (err.error_code === 403) return err.description;
  if (err.error_code === 400 && /chat not found|user is deactivated|PEER_ID_INVALID|group chat was deactivated/i.test(err.description)) return err.description;
  return null;
}

/** What went wrong with a Bot API call, without payloads (they hold personal data). */
export function describeTelegramError(err: unknown): { name: string; message: string; code?: number } {
  if (err instanceof GrammyError) return { name: 'GrammyError', message: `${err.method}: ${err.description}`, code: err.error_code };
  if (err instanceof HttpError) return { name: 'HttpError', message: err.message.replace(/bot\d+:[\w-]+/g, 'bot<token>') };
  if (err instanceof Error) return { name: err.name, message: err.message.replace(/bot\d+:[\w-]+/g, 'bot<token>') };
  return { name: 'Unknown', message: String(err) };
}

/** Photos citizens sent that this server keeps (the web chat's), by reference; null for a reference not its own or gone. */
export interface CitizenPhotoFiles {
  file(ref: string): Promise<{ bytes: Buffer } | null>;
}

/**
 * Sends guidance pictures: the first time a picture is uploaded (multipart), then sent by the file id Telegram gave
 * it (file ids of a bot do not expire), so a picture crosses the network once per process. A citizen's photo kept on
 * this server (a report's, for the officials' group) is uploaded from `photos` each time and never cached: once
 * erased, it is gone.
 */
export class TelegramPictures {
  private readonly fileIds = new Map<string, string>();
  constructor(
    private readonly files: PictureFiles | undefined,
    private readonly photos?: CitizenPhotoFiles,
  ) {}

  async send(api: Api, chatId: string, call: Extract<TelegramCall, { method: 'sendPicture' }>, signal?: ApiSignal): Promise<number | null> {
    const { picture, caption, parse_mode } = call;
    const photo = this.photos ? await this.photos.file(picture) : null;
    if (photo) return (await api.sendPhoto(chatId, new InputFile(photo.bytes, 'photo'), { caption, parse_mode }, signal)).message_id;
    const known = this.fileIds.get(picture);
    if (known) {
      try {
        return (await api.sendPhoto(chatId, known, { caption, parse_mode }, signal)).message_id;
      } catch (err) {
        // A file id Telegram no longer knows (another bot token, a test server): upload again.
        if (!(err instanceof GrammyError) || err.error_code !== 400) throw err;
        this.fileIds.delete(picture);
      }
    }
    const file = this.files?.file(picture);
    if (!file) return null;
    const sent = await api.sendPhoto(chatId, new InputFile(file.bytes, picture), { caption, parse_mode }, signal);
    const largest = sent.photo.at(-1);
    if (largest) this.fileIds.set(picture, largest.file_id);
    return sent.message_id;
  }
}

/**
 * Sends rendered calls to one chat, in order; the first failure stops the rest and is thrown. Returns the message ids.
 * Guidance pictures go through `pictures`; without it (or for a picture this server does not have) their text is sent.
 */
export async function sendTelegramCalls(api: Api, chatId: string, calls: TelegramCall[], signal?: ApiSignal, pictures?: TelegramPictures): Promise<string[]> {
  const ids: string[] = [];
  for (const call of calls) {
    switch (call.method) {
      case 'sendMessage': {
        const { method: _m, text, ...other } = call;
        ids.push(String((await api.sendMessage(chatId, text, other, signal))?.message_id ?? ''));
        break;
      }
      case 'sendPhoto': {
        const { method: _m, photo, ...other } = call;
        ids.push(String((await api.sendPhoto(chatId, photo, other, signal))?.message_id ?? ''));
        break;
      }
      case 'sendPicture': {
        const id = pictures ? await pictures.send(api, chatId, call, signal) : null;
        ids.push(String(id ?? (await api.sendMessage(chatId, escapeHtml(call.alt), { parse_mode: 'HTML' }, signal))?.message_id ?? ''));
        break;
      }
      case 'sendVoice': {
        const { method: _m, voice, ...other } = call;
        await api.sendVoice(chatId, voice, other, signal);
        break;
      }
      case 'sendDocument': {
        const { method: _m, document, ...other } = call;
        await api.sendDocument(chatId, document, other, signal);
        break;
      }
      default: {
        const unreachable: never = call;
        throw new Error(`sendTelegramCalls: unknown call ${JSON.stringify(unreachable)}`);
      }
    }
  }
  return ids.filter((id) => id !== '');
}
