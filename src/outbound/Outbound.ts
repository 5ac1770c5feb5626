import type { ChannelName, Reply } from '../engine/types';

/**
 * Sends replies to one person (or group chat) of one channel, outside a webhook request: status changes of a
 * report, reminders, broadcasts, officials' notices. Each channel that can push implements it.
 */
export interface ChannelSender {
  readonly channel: ChannelName;
  /**
   * Sends the replies in order. Throws `RecipientUnreachableError` when the platform says the person can no
   * longer be reached (blocked the bot, unfollowed, left the group); other failures throw after the channel's
   * own retries.
   */
  send(userId: string, replies: Reply[], options?: SendOptions): Promise<void>;
}

export interface SendOptions {
  /**
   * A broadcast: the caller paces sends globally, so the channel must not wait out the platform's "retry after"
   * itself but throw `RateLimitedError` at once (the caller then slows every process down).
   */
  bulk?: boolean;
}

/** The person blocked the bot, unfollowed the account, or removed it from the group. Retrying will not help. */
export class RecipientUnreachableError extends Error {
  constructor(
    readonly channel: ChannelName,
    readonly reason: string,
  ) {
    super(`The ${channel} recipient cannot be reached: ${reason}`);
    this.name = 'RecipientUnreachableError';
  }
}

/** No sender is registered for a channel (the channel is not configured). */
export class ChannelNotConfiguredError extends Error {
  constructor(channel: ChannelName) {
    super(`Cannot send on ${channel}: the channel is not configured (see the README's configuration table).`);
    this.name = 'ChannelNotConfiguredError';
  }
}

/** The senders of the channels that are on, by channel. */
export class Outbound {
  private readonly senders = new Map<ChannelName, ChannelSender>();

  register(sender: ChannelSender): void {
    this.senders.set(sender.channel, sender);
  }

  has(channel: ChannelName): boolean {
    return this.senders.has(channel);
  }

  async send(channel: ChannelName, userId: string, replies: Reply[], options?: SendOptions): Promise<void> {
    const sender = this.senders.get(channel);
    if (!sender) throw new ChannelNotConfiguredError(channel);
    await sender.send(userId, replies, options);
  }
}

/** The platform asked us to slow down (Telegram 429 `retry_after`, Zalo -32). */
export class RateLimitedError extends Error {
  constructor(
    readonly channel: ChannelName,
    readonly retryAfterMs: number,
  ) {
    super(`${channel} asked to slow down: retry after ${Math.round(retryAfterMs / 1000)} s`);
    this.name = 'RateLimitedError';
  }
}

/**
 * Zalo only lets an OA send consultation messages to someone who interacted in the last 7 days (-230/-232).
 * Not retried; counted separately in broadcast reports.
 */
export class RecipientOutsideWindowError extends Error {
  constructor(
    readonly channel: ChannelName,
    readonly code: string,
  ) {
    super(`The ${channel} recipient is outside the messaging window (${code}): they have not written to the account recently`);
    this.name = 'RecipientOutsideWindowError';
  }
}
