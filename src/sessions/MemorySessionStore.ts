import type { Session } from '../engine/types';
import { parseStoredSession, serializeSession, sessionTtlFor, type AfterCommit, type ExclusiveResult, type ExclusiveWork, type SessionStore, type SessionStoreOptions } from './SessionStore';

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * The same contract as the Redis store, inside one process: for `npm start` without Redis. Nothing survives a
 * restart and a second process would not see these sessions; start-up warns about both.
 */
export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory' as const;
  private readonly sessions = new Map<string, Entry>();
  private readonly events = new Map<string, number>();
  /** Tail of each user's queue: the next event of that user waits for it. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly options: SessionStoreOptions,
    private readonly clock: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async runExclusive<T>(userKey: string, eventId: string, work: ExclusiveWork<T>, afterCommit?: AfterCommit<T>): Promise<ExclusiveResult<T>> {
    const previous = this.tails.get(userKey) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(userKey, tail);
    await previous;
    try {
      const eventKey = `${userKey}\u0000${eventId}`;
      const seen = this.events.get(eventKey);
      if (seen !== undefined && seen > this.clock()) return { status: 'duplicate', session: this.read(userKey) };
      const { session, value, forget } = await work(this.read(userKey));
      const now = this.clock();
      if (forget) this.sessions.delete(userKey);
      else this.sessions.set(userKey, { value: serializeSession(session), expiresAt: now + sessionTtlFor(session, this.options) * 1000 });
      this.events.set(eventKey, now + this.options.eventTtlSeconds * 1000);
      if (afterCommit) await afterCommit(value, session);
      return { status: 'committed', session, value };
    } finally {
      release();
      if (this.tails.get(userKey) === tail) this.tails.delete(userKey);
    }
  }

  async peek(userKey: string): Promise<Session | null> {
    return this.read(userKey);
  }

  private read(userKey: string): Session | null {
    const entry = this.sessions.get(userKey);
    if (!entry || entry.expiresAt <= this.clock()) return null;
    return parseStoredSession(entry.value, this.clock());
  }

  private sweep(): void {
    const now = this.clock();
    for (const [k, e] of this.sessions) if (e.expiresAt <= now) this.sessions.delete(k);
    for (const [k, t] of this.events) if (t <= now) this.events.delete(k);
  }

  async forget(userKey: string): Promise<void> {
    this.sessions.delete(userKey);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
