import type { Redis } from 'ioredis';

/**
 * A global send rate shared by every process: each call reserves the next free slot and says how long to wait for
 * it (GCRA). `penalize` pushes every future slot back, for a platform's "retry after N seconds".
 */
export interface RateLimiter {
  /** Milliseconds to wait before sending (0 = now). The slot is reserved: do send after waiting. */
  reserve(): Promise<number>;
  penalize(ms: number): Promise<void>;
}

/*
 * KEYS[1]: the theoretical arrival time (TAT) in microseconds on Redis' clock. ARGV: interval (µs per message),
 * burst (µs of credit), penalty (µs, 0 for a reservation). Redis' own TIME keeps every process on one clock.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local penalty = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if penalty > 0 then
  if tat < now + penalty then tat = now + penalty end
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 60000)
  return 0
end
local wait = tat - now - burst
if wait < 0 then wait = 0 end
local nextTat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', nextTat), 'PX', math.ceil((nextTat - now) / 1000) + 60000)
return math.ceil(wait / 1000)
`;

interface ScriptedRedis extends Redis {
  cgbReserve(key: string, interval: number, burst: number, penalty: number): Promise<number>;
}

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: ScriptedRedis;
  private readonly intervalUs: number;
  private readonly burstUs: number;

  constructor(redis: Redis, private readonly key: string, perSecond: number, burst = 1) {
    redis.defineCommand('cgbReserve', { numberOfKeys: 1, lua: RESERVE });
    this.redis = redis as ScriptedRedis;
    this.intervalUs = 1_000_000 / perSecond;
    this.burstUs = this.intervalUs * Math.max(0, burst - 1);
  }

  reserve(): Promise<number> {
    return this.redis.cgbReserve(this.key, this.intervalUs, this.burstUs, 0);
  }

  async penalize(ms: number): Promise<void> {
    await this.redis.cgbReserve(this.key, this.intervalUs, this.burstUs, Math.ceil(ms * 1000));
  }
}

/** The same in one process (no Redis configured). */
export class MemoryRateLimiter implements RateLimiter {
  private tat = 0;
  private readonly interval: number;
  private readonly burstMs: number;

  constructor(perSecond: number, burst = 1, private readonly clock: () => number = () => performance.now()) {
    this.interval = 1000 / perSecond;
    this.burstMs = this.interval * Math.max(0, burst - 1);
  }

  async reserve(): Promise<number> {
    const now = this.clock();
    const tat = Math.max(this.tat, now);
    this.tat = tat + this.interval;
    return Math.max(0, Math.ceil(tat - now - this.burstMs));
  }

  async penalize(ms: number): Promise<void> {
    this.tat = Math.max(this.tat, this.clock() + ms);
  }
}
