import { z } from 'zod';
import { createSession, SESSION_VERSION, type JsonValue, type Session } from '../engine/types';

/**
 * Sessions, per-user serialization and event de-duplication: the part of the update pipeline that every channel
 * shares. Two implementations keep the same contract: Redis (any number of processes) and memory (one process).
 */
export interface SessionStore {
  readonly kind: 'redis' | 'memory';
  /**
   * Handles one event of one user exclusively: no other call for the same `userKey`, in this process or another,
   * runs between the load and the end of `afterCommit`.
   *
   * - When `eventId` was already committed, nothing runs and the result is `duplicate`.
   * - Otherwise `work` gets the stored session (null when there is none, or when it could not be read) and returns
   *   the next session; the session and the event id are committed together, atomically.
   * - `afterCommit` (sending the replies) still runs inside the user's lease, so replies keep their order.
   * - If anything fails before the commit, nothing is written and the error propagates (the caller answers 5xx
   *   and the platform redelivers).
   * - `forget: true` commits the event id and deletes the stored session instead of writing one (the person's data
   *   was erased inside the lease).
   */
  runExclusive<T>(userKey: string, eventId: string, work: ExclusiveWork<T>, afterCommit?: AfterCommit<T>): Promise<ExclusiveResult<T>>;
  /** The stored session without taking the lease (read-only views such as re-showing the current question). */
  peek(userKey: string): Promise<Session | null>;
  /** Deletes the user's session (the person asked for their data to be deleted). */
  forget(userKey: string): Promise<void>;
  /** Throws when the backing store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The work done inside a user's lease: the stored session in, the next session (and a value for the caller) out. */
export type ExclusiveWork<T> = (session: Session | null) => Promise<{ session: Session; value: T; forget?: boolean }>;

/** What runs after the commit, still inside the lease (sending the replies, in order). */
export type AfterCommit<T> = (value: T, session: Session) => Promise<void>;

export type ExclusiveResult<T> =
  | { status: 'duplicate'; session: Session | null }
  | { status: 'committed'; session: Session; value: T };

export interface SessionStoreOptions {
  sessionTtlSeconds: number;
  /**
   * How long the session of someone who never got past the first question (the language, at the start of
   * onboarding) is kept: a link opened once, or a script, does not leave a session for the full TTL.
   */
  briefSessionTtlSeconds: number;
  /** How long an event id is remembered (platforms redeliver for up to a day). */
  eventTtlSeconds: number;
  /** How long one event may hold a user's lease before another process may take it. */
  leaseMs: number;
  /** How long to wait for a busy user's lease before giving up (the platform then redelivers). */
  waitMs: number;
}

export const DEFAULT_STORE_OPTIONS: Omit<SessionStoreOptions, 'sessionTtlSeconds'> = {
  briefSessionTtlSeconds: 24 * 3600,
  eventTtlSeconds: 48 * 3600,
  leaseMs: 15_000,
  waitMs: 12_000,
};

/** The user's lease was held by someone else for longer than `waitMs`. */
export class LeaseTimeoutError extends Error {
  constructor(userKeyHash: string, waitMs: number) {
    super(`Could not take the lease of user ${userKeyHash} within ${waitMs} ms: another event of this user is still being handled. The platform will redeliver.`);
    this.name = 'LeaseTimeoutError';
  }
}

/** Our lease expired before the commit (the work took longer than `leaseMs`); nothing was written. */
export class LeaseLostError extends Error {
  constructor(userKeyHash: string, leaseMs: number) {
    super(`The lease of user ${userKeyHash} expired (after ${leaseMs} ms) before the session was saved; nothing was written. The event will be redelivered.`);
    this.name = 'LeaseLostError';
  }
}

// Any language folder name; one no longer on offer is treated as unset by the engine.
const localeSchema = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/).nullable();
const jsonValue: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]));

/** The stored shape of `Session` (engine/types.ts): checked against it by the compiler, no cast on read. */
const sessionSchema: z.ZodType<Session> = z.object({
  v: z.literal(SESSION_VERSION),
  profile: z.object({ locale: localeSchema, commune: z.string().nullable() }),
  flow: z.string().nullable(),
  flowVersion: z.number().int().nullable(),
  step: z.string().nullable(),
  answers: z.record(z.string(), jsonValue),
  history: z.array(z.string()),
  sub: z.enum(['resume', 'pick-field', 'guess', 'after']).nullable(),
  guesses: z.array(z.string()).optional(),
  pendingStart: z.string().nullable(),
  multiDraft: z.array(z.string()).nullable(),
  returnTo: z.string().nullable(),
  misses: z.number().int().nonnegative().optional(),
  updatedAt: z.number(),
});

/**
 * Reads a stored session. A session of another shape version is not misread: only its profile (language and
 * commune) is kept when it is still recognisable, and the user starts again from the menu.
 */
export function parseStoredSession(json: string | null, now: number): Session | null {
  if (json === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  const parsed = sessionSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const fresh = createSession(now);
  const profile = z.object({ profile: z.object({ locale: localeSchema, commune: z.string().nullable() }) }).safeParse(raw);
  if (profile.success) fresh.profile = profile.data.profile;
  return fresh;
}

/** The TTL of a session: brief until the person answered the first question (a language is chosen), full after. */
export function sessionTtlFor(session: Session, options: Pick<SessionStoreOptions, 'sessionTtlSeconds' | 'briefSessionTtlSeconds'>): number {
  const pastFirstQuestion = session.profile.locale !== null || session.profile.commune !== null;
  return pastFirstQuestion ? options.sessionTtlSeconds : Math.min(options.briefSessionTtlSeconds, options.sessionTtlSeconds);
}

export function serializeSession(session: Session): string {
  return JSON.stringify(session);
}
