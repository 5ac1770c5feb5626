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
  send(userId: string, replies: Reply[], options?: SendOptions): Promise<SendReceipt | void>;
  /**
   * Replaces the text of messages sent earlier (a notice whose citizen erased their data); a message that no longer
   * exists counts as done. Channels that cannot edit sent messages leave it out.
   */
  redact?(userId: string, messageIds: string[], text: string): Promise<void>;
}

/** What a platform said about the messages it accepted: their ids (to edit them later). */
export interface SendReceipt {
  messageIds: string[];
}

/**
 * The platform refused what was sent (a photo it cannot fetch, a malformed message): sending the same again will
 * fail again. The caller changes what it sends (e.g. without the photo) or gives up with an alert.
 */
export class ContentRefusedError extends Error {
  constructor(
    readonly channel: ChannelName,
    readonly reason: string,
  ) {
    super(`${channel} refused the message: ${reason}`);
    this.name = 'ContentRefusedError';
  }
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

  async send(channel: ChannelName, userId: string, replies: Reply[], options?: SendOptions): Promise<SendReceipt> {
    const sender = this.senders.get(channel);
    if (!sender) throw new ChannelNotConfiguredError(channel);
    return (await sender.send(userId, replies, options)) ?? { messageIds: [] };
  }

  /** Edits sent messages to `text`; false when the channel cannot edit (nothing to do there). */
  async redact(channel: ChannelName, userId: string, messageIds: string[], text: string): Promise<boolean> {
    const sender = this.senders.get(channel);
    if (!sender) throw new ChannelNotConfiguredError(channel);
    if (!sender.redact) return false;
    await sender.redact(userId, messageIds, text);
    return true;
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
