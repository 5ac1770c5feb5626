import { Redis } from 'ioredis';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from '../../src/broadcasts/RateLimiter';
import { testRedisUrl, uniquePrefix } from '../support/harness';

describe('MemoryRateLimiter', () => {
  it('lets a burst through at once, then spaces sends by the interval', async () => {
    let now = 1_000;
    const limiter = new MemoryRateLimiter(10, 3, () => now);
    const waits = [];
    for (let i = 0; i < 6; i++) waits.push(await limiter.reserve());
    expect(waits).toEqual([0, 0, 0, 100, 200, 300]);
    now += 1_000;
    expect(await limiter.reserve()).toBe(0);
  });

  it('pushes every later slot back after a "retry after"', async () => {
    const now = 5_000;
    const limiter = new MemoryRateLimiter(10, 1, () => now);
    await limiter.penalize(3_000);
    expect(await limiter.reserve()).toBe(3_000);
    expect(await limiter.reserve()).toBe(3_100);
  });
});

describe('RedisRateLimiter', () => {
  const redis = new Redis(testRedisUrl());
  afterAll(() => redis.quit());

  it('shares one rate between limiters on the same key (two processes)', async () => {
    const key = `${uniquePrefix()}rate:test`;
    // One message per 100 s: the second reservation, by either process, waits for almost all of it.
    const a: RateLimiter = new RedisRateLimiter(redis, key, 0.01);
    const b: RateLimiter = new RedisRateLimiter(redis, key, 0.01);
    expect(await a.reserve()).toBe(0);
    expect(await b.reserve()).toBeGreaterThan(90_000);
    expect(await a.reserve()).toBeGreaterThan(190_000);
  });

  it('pushes every later slot back after a "retry after"', async () => {
    const limiter = new RedisRateLimiter(redis, `${uniquePrefix()}rate:test`, 1000);
    await limiter.penalize(60_000);
    expect(await limiter.reserve()).toBeGreaterThan(50_000);
  });
});
