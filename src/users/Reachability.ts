import type { ChannelName } from '../engine/types';

/**
 * Who can no longer be messaged: a Telegram user who blocked the bot, a Zalo user who unfollowed the OA. Nothing is
 * sent to them again until they come back (write to the bot again, follow again), which clears the mark.
 */
export interface Reachability {
  markUnreachable(channel: ChannelName, userId: string, reason: string): Promise<void>;
  markReachable(channel: ChannelName, userId: string): Promise<void>;
  isReachable(channel: ChannelName, userId: string): Promise<boolean>;
}

/** One process only (no REDIS_URL): the marks are lost on restart. */
export class MemoryReachability implements Reachability {
  private readonly unreachable = new Map<string, string>();

  async markUnreachable(channel: ChannelName, userId: string, reason: string): Promise<void> {
    this.unreachable.set(`${channel}:${userId}`, reason);
  }

  async markReachable(channel: ChannelName, userId: string): Promise<void> {
    this.unreachable.delete(`${channel}:${userId}`);
  }

  async isReachable(channel: ChannelName, userId: string): Promise<boolean> {
    return !this.unreachable.has(`${channel}:${userId}`);
  }
}

/** Minimal Redis surface used here (ioredis satisfies it). */
interface RedisLike {
  set(key: string, value: string): Promise<unknown>;
  del(key: string): Promise<unknown>;
  exists(key: string): Promise<number>;
}

/** Shared by every process on one Redis; kept until the person comes back. */
export class RedisReachability implements Reachability {
  constructor(
    private readonly redis: RedisLike,
    private readonly prefix: string,
  ) {}

  private key(channel: ChannelName, userId: string): string {
    return `${this.prefix}unreachable:{${channel}:${userId}}`;
  }

  async markUnreachable(channel: ChannelName, userId: string, reason: string): Promise<void> {
    await this.redis.set(this.key(channel, userId), reason);
  }

  async markReachable(channel: ChannelName, userId: string): Promise<void> {
    await this.redis.del(this.key(channel, userId));
  }

  async isReachable(channel: ChannelName, userId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(channel, userId))) === 0;
  }
}
