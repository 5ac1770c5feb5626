import { userTag, type Logger } from '../logger';
import { RecipientUnreachableError, type Outbound } from '../outbound/Outbound';
import { describeError } from '../errors';
import type { RecordsRepository } from './RecordsRepository';

export interface NoticeDispatcherOptions {
  /** How often due notices are looked for, besides right after one is queued. */
  pollMs: number;
  /** How long a claimed notice is left alone by other processes while it is being sent. */
  leaseMs: number;
  /** Backoff after the first failure; doubles each time up to `maxBackoffMs`. */
  firstBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_NOTICE_OPTIONS: NoticeDispatcherOptions = { pollMs: 5_000, leaseMs: 60_000, firstBackoffMs: 5_000, maxBackoffMs: 15 * 60_000 };

/** What the notice dispatcher works with; `options` and `clock` have defaults. */
export interface NoticeDispatcherDeps {
  repo: RecordsRepository;
  outbound: Outbound;
  log: Logger;
  options?: NoticeDispatcherOptions;
  clock?: () => number;
}

/**
 * Sends queued notices (to officials' groups, and status updates to citizens). Notices are rows in the records
 * database, written in the same transaction as their record, so a notice is never lost: when a group cannot be
 * reached, it is retried with backoff until it goes through. Any number of processes may run a dispatcher; each
 * notice is claimed by one (FOR UPDATE SKIP LOCKED).
 */
export class NoticeDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  private readonly options: NoticeDispatcherOptions;
  private readonly clock: () => number;

  constructor(private readonly deps: NoticeDispatcherDeps) {
    this.options = deps.options ?? DEFAULT_NOTICE_OPTIONS;
    this.clock = deps.clock ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Looks for due notices now (coalesced with a run in progress). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runUntilIdle().finally(() => {
      this.running = null;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Sends every notice that is due; resolves when none is left (tests call it directly). */
  async runUntilIdle(): Promise<void> {
    do {
      this.again = false;
      for (;;) {
        let batch;
        try {
          batch = await this.deps.repo.claimDueNotices(new Date(this.clock()), 20, this.options.leaseMs);
        } catch (err) {
          this.deps.log.error({ err: describeError(err) }, 'could not read queued notices; will retry');
          return;
        }
        if (batch.length === 0) break;
        for (const notice of batch) await this.sendOne(notice);
      }
    } while (this.again && !this.stopped);
  }

  private async sendOne(notice: Awaited<ReturnType<RecordsRepository['claimDueNotices']>>[number]): Promise<void> {
    const now = new Date(this.clock());
    try {
      // The channel's sender owns reachability: it refuses a recipient marked unreachable (RecipientUnreachableError)
      // without calling the platform, and marks one the platform refuses before throwing the same error.
      await this.deps.outbound.send(notice.channel, notice.recipient, notice.replies);
      await this.deps.repo.markNoticeSent(notice.id, new Date(this.clock()));
    } catch (err) {
      if (err instanceof RecipientUnreachableError) {
        await this.deps.repo.markNoticeFailed(notice.id, err.message, null, now);
        this.deps.log.warn({ channel: notice.channel, recipient: userTag(notice.recipient), notice: notice.id }, 'notice recipient unreachable; not retried');
        return;
      }
      const backoff = Math.min(this.options.firstBackoffMs * 2 ** notice.attempts, this.options.maxBackoffMs);
      await this.deps.repo.markNoticeFailed(notice.id, describeError(err).message, new Date(now.getTime() + backoff), now);
      this.deps.log.warn({ channel: notice.channel, notice: notice.id, attempts: notice.attempts + 1, retryInMs: backoff, err: describeError(err) }, 'notice not delivered; will retry');
    }
  }
}
