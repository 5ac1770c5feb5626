import type { Redis } from 'ioredis';

/** Counts requests per key in fixed windows; `hit` says whether this one is still within the limit. */
export interface RequestCounter {
  /** Counts one request of `key`; returns false (and how long until the window ends) when over `limit`. */
  hit(key: string, limit: number, windowMs: number): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
}

/*
 * One round trip: count, start the window's expiry on the first request, and return the count and what is left of
 * the window. Every process shares the counters, so a client cannot spread its requests over processes.
 */
const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

interface ScriptedRedis extends Redis {
  cgbHit(key: string, windowMs: number): Promise<[number, number]>;
}

/** Counters in Redis, shared by every process. Keys expire with their window, so storage stays bounded. */
export class RedisRequestCounter implements RequestCounter {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('cgbHit', { numberOfKeys: 1, lua: HIT });
    this.redis = redis as ScriptedRedis;
  }

  async hit(key: string, limit: number, windowMs: number) {
    // The window starts at the key's first request (its expiry), not at a wall-clock boundary.
    const [n, ttl] = await this.redis.cgbHit(`${this.prefix}hits:${key}:${windowMs}`, windowMs);
    return n <= limit ? { allowed: true as const } : { allowed: false as const, retryAfterMs: Math.max(1, ttl) };
  }
}

/** The same in one process (no REDIS_URL). */
export class MemoryRequestCounter implements RequestCounter {
  private readonly counts = new Map<string, { n: number; until: number }>();

  async hit(key: string, limit: number, windowMs: number) {
    const now = Date.now();
    if (this.counts.size > 100_000) for (const [k, v] of this.counts) if (v.until <= now) this.counts.delete(k);
    let entry = this.counts.get(key);
    if (!entry || entry.until <= now) this.counts.set(key, (entry = { n: 0, until: now + windowMs }));
    entry.n++;
    return entry.n <= limit ? { allowed: true as const } : { allowed: false as const, retryAfterMs: entry.until - now };
  }
}
