import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from '../../util/sleep';
import type { RateShape } from '../../util/RateLimiter';

/**
 * What the Zalo channel's processes share (besides the OA-wide rate limiter, `RateLimiter`): the token-refresh lock, the ids of messages
 * this bot sent (to tell its own echoes from an OA admin typing by hand) and the hand-over pauses. On Redis when
 * REDIS_URL is set (any number of processes), in memory otherwise (one process).
 */
export interface ZaloCoordination {
  /**
   * Runs `fn` while holding the named lock, which no other caller (in any process) holds meanwhile. The lock expires
   * after `ttlMs` in case the holder dies; waits at most `waitMs` for it.
   */
  withLock<T>(name: string, ttlMs: number, waitMs: number, fn: () => Promise<T>): Promise<T>;
  /** A send to this user is in flight (its echo may arrive before we learn the message id). */
  beginSend(userId: string): Promise<void>;
  /** `marks`: the message ids Zalo gave our messages, and `sentMessageMark`s of their texts. */
  endSend(userId: string, marks: string[]): Promise<void>;
  isSending(userId: string): Promise<boolean>;
  /** Whether a message id (or a `sentMessageMark`) belongs to a message this bot sent in the last minutes. */
  wasSentByBot(mark: string): Promise<boolean>;
  /** The bot stays quiet for this user until then (a human is talking to them). */
  pause(userId: string, ms: number): Promise<void>;
  isPaused(userId: string): Promise<boolean>;
  unpause(userId: string): Promise<void>;
}

/** The lock could not be taken in time. */
export class LockTimeoutError extends Error {
  constructor(name: string, waitMs: number) {
    super(`Could not take the lock '${name}' within ${waitMs} ms: another process holds it. Try again later.`);
    this.name = 'LockTimeoutError';
  }
}

/**
 * A one-way mark of a text sent to a person. Echoes are recognised by message id first; the text mark is a second
 * line of defence in case an echo's msg_id ever differs from the id the send answered with (not confirmed by
 * Zalo's docs), which would otherwise make the bot pause itself after each reply.
 */
export function sentMessageMark(userId: string, text: string): string {
  return `t.${crypto.createHash('sha256').update(`${userId}\n${text.normalize('NFC').trim()}`).digest('hex').slice(0, 32)}`;
}

/** Sent message ids are remembered this long: echoes arrive within seconds. */
const SENT_TTL_MS = 10 * 60_000;
/** An in-flight send mark expires by itself if the process dies mid-send. */
const SENDING_TTL_MS = 120_000;

/** Zalo's OA-wide API limit (calls a minute): 4,000 a minute is one call per 15 ms; up to 40 more may go at once, then they are spaced. */
export function zaloApiRate(perMinute: number): RateShape {
  return { perSecond: perMinute / 60, burst: 1 + Math.min(40, Math.max(0, perMinute / 100 - 1)) };
}

/* Ends an in-flight send: never below zero, and the counter goes away with the last send. */
const END_SEND = `
local n = redis.call('DECR', KEYS[1])
if n <= 0 then redis.call('DEL', KEYS[1]) end
return n
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface ScriptedRedis extends Redis {
  zaloRelease(key: string, token: string): Promise<number>;
  zaloEndSend(key: string): Promise<number>;
}


export class RedisZaloCoordination implements ZaloCoordination {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('zaloRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('zaloEndSend', { numberOfKeys: 1, lua: END_SEND });
    this.redis = redis as ScriptedRedis;
  }

  private key(...parts: string[]): string {
    return `${this.prefix}zalo:${parts.join(':')}`;
  }

  async withLock<T>(name: string, ttlMs: number, waitMs: number, fn: () => Promise<T>): Promise<T> {
    const key = this.key('lock', name);
    const token = crypto.randomBytes(12).toString('base64url');
    const deadline = Date.now() + waitMs;
    let delay = 10;
    while ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
      if (Date.now() >= deadline) throw new LockTimeoutError(name, waitMs);
      await sleep(delay);
      delay = Math.min(delay * 2, 200);
    }
    try {
      return await fn();
    } finally {
      await this.redis.zaloRelease(key, token);
    }
  }

  async beginSend(userId: string): Promise<void> {
    const key = this.key('sending', `{${userId}}`);
    await this.redis.multi().incr(key).pexpire(key, SENDING_TTL_MS).exec();
  }

  async endSend(userId: string, marks: string[]): Promise<void> {
    // The marks are written before the in-flight counter goes down, so an echo never sees neither.
    if (marks.length > 0) {
      const m = this.redis.multi();
      for (const id of marks) m.set(this.key('sent', id), '1', 'PX', SENT_TTL_MS);
      await m.exec();
    }
    await this.redis.zaloEndSend(this.key('sending', `{${userId}}`));
  }

  async isSending(userId: string): Promise<boolean> {
    return Number(await this.redis.get(this.key('sending', `{${userId}}`))) > 0;
  }

  async wasSentByBot(mark: string): Promise<boolean> {
    return (await this.redis.exists(this.key('sent', mark))) === 1;
  }

  async pause(userId: string, ms: number): Promise<void> {
    await this.redis.set(this.key('pause', `{${userId}}`), '1', 'PX', ms);
  }

  async isPaused(userId: string): Promise<boolean> {
    return (await this.redis.exists(this.key('pause', `{${userId}}`))) === 1;
  }

  async unpause(userId: string): Promise<void> {
    await this.redis.del(this.key('pause', `{${userId}}`));
  }
}

/** One process only: the same behaviour in memory. */
export class MemoryZaloCoordination implements ZaloCoordination {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly sending = new Map<string, number>();
  private readonly sent = new Map<string, number>();
  private readonly paused = new Map<string, number>();

  constructor(private readonly clock: () => number = Date.now) {}

  async withLock<T>(name: string, _ttlMs: number, _waitMs: number, fn: () => Promise<T>): Promise<T> {
    // A chain of promises per name: each caller runs after the previous one settled.
    const previous = this.locks.get(name) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(name, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    }
  }

  async beginSend(userId: string): Promise<void> {
    this.sending.set(userId, (this.sending.get(userId) ?? 0) + 1);
  }

  async endSend(userId: string, marks: string[]): Promise<void> {
    const now = this.clock();
    for (const [id, until] of this.sent) if (until < now) this.sent.delete(id);
    for (const id of marks) this.sent.set(id, now + SENT_TTL_MS);
    const n = (this.sending.get(userId) ?? 1) - 1;
    if (n > 0) this.sending.set(userId, n);
    else this.sending.delete(userId);
  }

  async isSending(userId: string): Promise<boolean> {
    return (this.sending.get(userId) ?? 0) > 0;
  }

  async wasSentByBot(mark: string): Promise<boolean> {
    return (this.sent.get(mark) ?? 0) >= this.clock();
  }

  async pause(userId: string, ms: number): Promise<void> {
    this.paused.set(userId, this.clock() + ms);
  }

  async isPaused(userId: string): Promise<boolean> {
    const until = this.paused.get(userId);
    if (until === undefined) return false;
    if (until > this.clock()) return true;
    this.paused.delete(userId);
    return false;
  }

  async unpause(userId: string): Promise<void> {
    this.paused.delete(userId);
  }
}
