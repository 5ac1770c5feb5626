import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Session } from '../engine/types';
import { userTag } from '../logger';
import { sleep } from '../util/sleep';
import {
  LeaseLostError,
  LeaseTimeoutError,
  parseStoredSession,
  serializeSession,
  sessionTtlFor,
  type AfterCommit,
  type ExclusiveResult,
  type ExclusiveWork,
  type SessionStore,
  type SessionStoreOptions,
} from './SessionStore';

/*
 * One round trip to begin and one to commit. The user key is in braces (a hash tag) so that the lease, the session
 * and the event keys of one user live in one Redis Cluster slot and the scripts may touch them together.
 *
 * BEGIN: a committed event id means a duplicate; otherwise take the lease (SET NX PX) and return the session in the
 * same step, so nobody can write between our lease and our read.
 */
const BEGIN = `
if redis.call('EXISTS', KEYS[3]) == 1 then
  return {'dup', redis.call('GET', KEYS[2])}
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'ok', redis.call('GET', KEYS[2])}
end
return {'busy', tostring(redis.call('PTTL', KEYS[1]))}
`;

/*
 * COMMIT: only while we still hold the lease (fencing against a lease that expired during a long pause), write the
 * session (or delete it, when the work erased the person's data: an empty ARGV[2]) and remember the event id,
 * atomically.
 */
const COMMIT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
redis.call('SET', KEYS[3], '1', 'EX', ARGV[4])
return 1
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type Reply = [string, string | null];

interface ScriptedRedis extends Redis {
  cgbBegin(lockKey: string, sessionKey: string, eventKey: string, token: string, leaseMs: number): Promise<Reply>;
  cgbCommit(lockKey: string, sessionKey: string, eventKey: string, token: string, json: string, ttl: number, eventTtl: number): Promise<number>;
  cgbRelease(lockKey: string, token: string): Promise<number>;
}


export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis' as const;
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly options: SessionStoreOptions,
    private readonly clock: () => number = Date.now,
  ) {
    redis.defineCommand('cgbBegin', { numberOfKeys: 3, lua: BEGIN });
    redis.defineCommand('cgbCommit', { numberOfKeys: 3, lua: COMMIT });
    redis.defineCommand('cgbRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis = redis as ScriptedRedis;
  }

  private keys(userKey: string, eventId: string) {
    const tag = `{${userKey}}`;
    return {
      lock: `${this.prefix}lock:${tag}`,
      session: `${this.prefix}s:${tag}`,
      event: `${this.prefix}ev:${tag}:${eventId}`,
    };
  }

  async runExclusive<T>(userKey: string, eventId: string, work: ExclusiveWork<T>, afterCommit?: AfterCommit<T>): Promise<ExclusiveResult<T>> {
    const k = this.keys(userKey, eventId);
    const token = crypto.randomUUID(); // unguessable and unique; drawn from Node's pooled entropy (cheaper than randomBytes)
    const deadline = Date.now() + this.options.waitMs;
    let delay = 2;
    let stored: string | null;
    for (;;) {
      const [status, payload] = await this.redis.cgbBegin(k.lock, k.session, k.event, token, this.options.leaseMs);
      if (status === 'dup') return { status: 'duplicate', session: parseStoredSession(payload, this.clock()) };
      if (status === 'ok') {
        stored = payload;
        break;
      }
      if (Date.now() >= deadline) throw new LeaseTimeoutError(userTag(userKey), this.options.waitMs);
      // Another event of this user is in progress: wait a little (never longer than its lease has left).
      const pttl = Number(payload);
      await sleep(Math.max(1, Math.min(delay, pttl > 0 ? pttl : delay)));
      delay = Math.min(delay * 2, 15);
    }

    try {
      const { session, value, forget } = await work(parseStoredSession(stored, this.clock()));
      const ok = await this.redis.cgbCommit(k.lock, k.session, k.event, token, forget ? '' : serializeSession(session), sessionTtlFor(session, this.options), this.options.eventTtlSeconds);
      if (ok !== 1) throw new LeaseLostError(userTag(userKey), this.options.leaseMs);
      if (afterCommit) await afterCommit(value, session);
      return { status: 'committed', session, value };
    } finally {
      await this.redis.cgbRelease(k.lock, token);
    }
  }

  async peek(userKey: string): Promise<Session | null> {
    return parseStoredSession(await this.redis.get(this.keys(userKey, '').session), this.clock());
  }

  async forget(userKey: string): Promise<void> {
    await this.redis.del(this.keys(userKey, '').session);
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
