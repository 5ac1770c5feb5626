import diagnostics from 'node:diagnostics_channel';
import type { Transformer } from 'grammy';
import type { ChannelName } from '../engine/types';

/**
 * One call to a platform's API, one attempt: `status` is `ok`, the platform's error code (Telegram's HTTP-like
 * `error_code`, e.g. `429`; Zalo's `error`, e.g. `-32`), or `network` when no answer came. `retry` is true for the
 * second and later attempts of one call (grammY's auto-retry, Zalo's back-off and token renewal).
 */
export interface OutboundAttempt {
  channel: ChannelName;
  method: string;
  status: string;
  retry: boolean;
}

/**
 * Channel clients publish their API attempts here and the metrics (built by the composition root) subscribe: the
 * clients need no reference to the metrics, and publishing costs nothing when nobody listens.
 */
export const OUTBOUND_DIAGNOSTICS_CHANNEL = 'citizen-guidance-bot:outbound';
const outbound = diagnostics.channel(OUTBOUND_DIAGNOSTICS_CHANNEL);

export function reportOutboundAttempt(attempt: OutboundAttempt): void {
  if (outbound.hasSubscribers) outbound.publish(attempt);
}

/**
 * A grammY transformer that reports every Bot API attempt. Install it before auto-retry: it then sits inside the
 * retry loop and sees each attempt; auto-retry passes the same payload object again, which marks a retry.
 */
export function createTelegramAttemptReporter(): Transformer {
  const seen = new WeakSet<object>();
  return async (prev, method, payload, signal) => {
    const retry = seen.has(payload);
    seen.add(payload);
    try {
      const result = await prev(method, payload, signal);
      reportOutboundAttempt({ channel: 'telegram', method, status: result.ok ? 'ok' : String(result.error_code), retry });
      return result;
    } catch (err) {
      reportOutboundAttempt({ channel: 'telegram', method, status: 'network', retry });
      throw err;
    }
  };
}
