import type { ChannelName } from '../engine/types';
import { describeError } from '../errors';
import type { Logger } from '../logger';

/** What `answerWebhook` needs of a response: Express's, or the plain one of a route served without Express. */
export interface WebhookResponse {
  readonly headersSent: boolean;
  status(code: number): { json(body: unknown): unknown };
}

/**
 * A call the platform performs when it reads the webhook's 200 answer, in place of the plain `{ ok: true }`
 * (Telegram: one Bot API method and its parameters, its result known to nobody).
 */
export interface WebhookReply {
  readonly method: string;
}

/**
 * How every channel answers its platform's webhook once the request is verified and parsed, so that Telegram and
 * Zalo behave the same:
 * - 503 `shutting_down` while the process stops (the platform redelivers, to this process's successor);
 * - 200 once `handle` resolves (committed, a duplicate, or ignored): `{ ok: true }`, or the call `handle` resolved
 *   with for the platform to perform;
 * - 503 `unavailable`, logged without personal data, when it rejects: nothing was committed, the platform redelivers.
 */
export async function answerWebhook(
  res: WebhookResponse,
  ctx: { channel: ChannelName; eventId: string; log: Logger; closing: boolean },
  handle: () => Promise<WebhookReply | void>,
): Promise<void> {
  if (ctx.closing) {
    res.status(503).json({ error: 'shutting_down', message: 'The server is stopping; deliver the event again.' });
    return;
  }
  try {
    const reply = await handle();
    res.status(200).json(reply ?? { ok: true });
  } catch (err) {
    ctx.log.error({ channel: ctx.channel, eventId: ctx.eventId, err: describeError(err) }, 'event could not be committed; answering 503 so that the platform redelivers it');
    if (!res.headersSent) res.status(503).json({ error: 'unavailable', message: 'The event could not be saved; it will be delivered again.' });
  }
}
