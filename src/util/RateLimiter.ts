import type { Redis } from 'ioredis';

/**
 * A send rate shared by every process (the platforms' limits are per bot or per OA, not per process): each call
 * reserves the next free slot and says how long to wait for it (GCRA). `burst` calls may go at once; after them,
 * calls are spaced by 1/`perSecond`. One implementation for the broadcast senders and the Zalo API client.
 */
export interface RateLimiter {
  /** Milliseconds to wait before sending (0 = now). The slot is reserved: do send after waiting. */
  reserve(): Promise<number>;
  /**
   * `n` slots in one call (one Redis round trip), in order: the wait before each, as `n` calls of `reserve` in a row
   * would give them. No other process's slot falls between them; the limits and the burst are the same.
   */
  reserveMany(n: number): Promise<number[]>;
  /** Like `reserve`, unless the wait would be longer than `maxWaitMs`: then null, and nothing is reserved. */
  tryReserve(maxWaitMs: number): Promise<number | null>;
  /** Every later reservation waits at least `ms` from now (a platform's "retry after", Zalo's -32). */
  penalize(ms: number): Promise<void>;
}

/** A rate and its burst: how many calls a second at length, and how many may go at once. */
export interface RateShape {
  perSecond: number;
  /** At least 1; fractions are allowed (credit of part of an interval). */
  burst: number;
}

/*
 * KEYS[1]: the theoretical arrival time (TAT) of the next free slot, in microseconds on Redis' clock. ARGV: interval
 * (µs per call), burst (µs of credit: how far ahead of now reservations may run without waiting), penalty (µs, 0
 * for a reservation), the longest wait accepted (µs, -1 for any; for the first slot), how many slots. Returns the
 * wait of each slot (ms), or {-1} when the first would wait longer than accepted. Redis' own TIME keeps every
 * process on one clock, and the script runs atomically, so two processes never take the same slot.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local penalty = tonumber(ARGV[3])
local maxWait = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if penalty > 0 then
  -- Beyond the burst credit too, so that the next call really waits for the penalty.
  local untilTat = now + penalty + burst
  if tat < untilTat then tat = untilTat end
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 60000)
  return {0}
end
local count = tonumber(ARGV[5])
local waits = {}
for i = 1, count do
  local wait = tat - now - burst
  if wait < 0 then wait = 0 end
  if i == 1 and maxWait >= 0 and wait > maxWait then return {-1} end
  waits[i] = math.ceil(wait / 1000)
  tat = tat + interval
end
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 60000)
return waits
`;

interface ScriptedRedis extends Redis {
  cgbReserve(key: string, interval: number, burst: number, penalty: number, maxWait: number, count: number): Promise<number[]>;
}

/** Microseconds between two calls, and of burst credit. */
function timing(shape: RateShape, unit: number): { interval: number; credit: number } {
  const interval = unit / shape.perSecond;
  return { interval, credit: interval * Math.max(0, shape.burst - 1) };
}

/** Shared by every process on one Redis key. */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: ScriptedRedis;
  private readonly intervalUs: number;
  private readonly creditUs: number;

  constructor(
    redis: Redis,
    private readonly key: string,
    shape: RateShape,
  ) {
    redis.defineCommand('cgbReserve', { numberOfKeys: 1, lua: RESERVE });
    this.redis = redis as ScriptedRedis;
    ({ interval: this.intervalUs, credit: this.creditUs } = timing(shape, 1_000_000));
  }

  async reserve(): Promise<number> {
    return (await this.redis.cgbReserve(this.key, this.intervalUs, this.creditUs, 0, -1, 1))[0]!;
  }

  async reserveMany(n: number): Promise<number[]> {
    if (n <= 0) return [];
    return this.redis.cgbReserve(this.key, this.intervalUs, this.creditUs, 0, -1, n);
  }

  async tryReserve(maxWaitMs: number): Promise<number | null> {
    const [wait] = await this.redis.cgbReserve(this.key, this.intervalUs, this.creditUs, 0, Math.max(0, maxWaitMs) * 1000, 1);
    return wait! < 0 ? null : wait!;
  }

  async penalize(ms: number): Promise<void> {
    await this.redis.cgbReserve(this.key, this.intervalUs, this.creditUs, Math.ceil(ms * 1000), -1, 1);
  }
}

/** The same in one process (no Redis configured). */
export class MemoryRateLimiter implements RateLimiter {
  private tat = 0;
  private readonly interval: number;
  private readonly credit: number;

  constructor(
    shape: RateShape,
    private readonly clock: () => number = () => performance.now(),
  ) {
    ({ interval: this.interval, credit: this.credit } = timing(shape, 1000));
  }

  async reserve(): Promise<number> {
    return this.take(Infinity)!;
  }

  async reserveMany(n: number): Promise<number[]> {
    const waits: number[] = [];
    for (let i = 0; i < n; i++) waits.push(this.take(Infinity)!);
    return waits;
  }

  async tryReserve(maxWaitMs: number): Promise<number | null> {
    return this.take(maxWaitMs);
  }

  /** Synchronous, so that the slots of one `reserveMany` are consecutive. */
  private take(maxWaitMs: number): number | null {
    const now = this.clock();
    const tat = Math.max(this.tat, now);
    const wait = Math.max(0, tat - now - this.credit);
    if (wait > maxWaitMs) return null;
    this.tat = tat + this.interval;
    return Math.ceil(wait);
  }

  async penalize(ms: number): Promise<void> {
    this.tat = Math.max(this.tat, this.clock() + ms + this.credit);
  }
}
