import type { Api } from 'grammy';
import type { Logger } from '../../logger';
import { parseTelegramUpdate } from './parseTelegramUpdate';
import type { TelegramUpdateHandler } from './TelegramUpdateHandler';
import { asApiSignal, describeTelegramError } from './telegramApi';
import { sleep } from '../../util/sleep';

export const ALLOWED_UPDATES = ['message', 'callback_query', 'my_chat_member'] as const;

/** Seconds Telegram holds a getUpdates call open when there is nothing to deliver. */
const LONG_POLL_SECONDS = 25;
const MAX_BACKOFF_MS = 30_000;


/**
 * Long polling (`TELEGRAM_MODE=polling`, for development): getUpdates in a loop, each update through the same
 * handler as the webhook. An update is confirmed (the next offset moves past it) only once it is committed; when
 * one fails, polling waits and fetches again from that update, so nothing is lost and the de-duplication on
 * update_id keeps redeliveries harmless.
 */
export class TelegramPoller {
  private controller: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private offset: number | undefined;

  constructor(
    private readonly api: Api,
    private readonly handler: TelegramUpdateHandler,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.loop) return;
    this.controller = new AbortController();
    this.loop = this.run(this.controller.signal);
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = null;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    const backoff = async () => {
      failures++;
      await sleep(Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 6)), signal);
    };
    while (!signal.aborted) {
      const started = Date.now();
      let updates: unknown[];
      try {
        updates = await this.api.getUpdates({ offset: this.offset, timeout: LONG_POLL_SECONDS, allowed_updates: [...ALLOWED_UPDATES] }, asApiSignal(signal));
      } catch (err) {
        if (signal.aborted) break;
        const e = describeTelegramError(err);
        this.log.error({ channel: 'telegram', err: e }, e.code === 409 ? 'getUpdates conflict: another process polls with this token, or a webhook is set' : 'getUpdates failed; retrying');
        await backoff();
        continue;
      }
      failures = 0;
      for (const raw of updates) {
        if (signal.aborted) break;
        const updateId = (raw as { update_id?: unknown }).update_id;
        const parsed = parseTelegramUpdate(raw, this.handler.botUsername);
        if (!parsed.ok) {
          this.log.warn({ channel: 'telegram', updateId, problems: parsed.problems }, 'malformed update skipped');
          if (typeof updateId === 'number') this.offset = updateId + 1;
          continue;
        }
        try {
          // No webhook answer to carry a button tap's answer: it goes out as a request.
          await this.handler.handle(parsed.updateId, parsed.meaning, 'request');
          this.offset = parsed.updateId + 1;
        } catch (err) {
          this.log.error({ channel: 'telegram', eventId: `tg:${parsed.updateId}`, err: describeTelegramError(err) }, 'update could not be committed; fetching it again');
          await backoff();
          break;
        }
      }
      // A Bot API server that does not hold getUpdates open (test emulators) would otherwise be polled in a tight loop.
      if (updates.length === 0 && Date.now() - started < 200) await sleep(100, signal);
    }
  }
}
