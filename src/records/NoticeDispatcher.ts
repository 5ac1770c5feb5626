import type { Reply } from '../engine/types';
import { userTag, type Logger } from '../logger';
import { ContentRefusedError, RecipientUnreachableError, type Outbound } from '../outbound/Outbound';
import { describeError } from '../errors';
import type { Reachability } from '../users/Reachability';
import type { PendingNotice, RecordsRepository } from './RecordsRepository';

export interface NoticeDispatcherOptions {
  /** How often due notices are looked for, besides right after one is queued. */
  pollMs: number;
  /** How long a claimed notice is left alone by other processes while it is being sent. */
  leaseMs: number;
  /** Backoff after the first failure; doubles each time up to `maxBackoffMs`. */
  firstBackoffMs: number;
  maxBackoffMs: number;
  /** Failed attempts after which a notice is given up, with an alert to the district group. */
  maxAttempts: number;
  /** How often a notice waiting for a group that removed the bot looks again (besides `my_chat_member`). */
  recheckMs: number;
  /** How long a notice waits for a commune's group to have the bot back before it goes to the district group. */
  groupWaitMs: number;
}

export const DEFAULT_NOTICE_OPTIONS: NoticeDispatcherOptions = {
  pollMs: 5_000,
  leaseMs: 60_000,
  firstBackoffMs: 5_000,
  maxBackoffMs: 15 * 60_000,
  maxAttempts: 10,
  recheckMs: 60_000,
  groupWaitMs: 30 * 60_000,
};

/** What the notice dispatcher works with; `options`, `clock` and `policy` have defaults. */
export interface NoticeDispatcherDeps {
  repo: RecordsRepository;
  outbound: Outbound;
  log: Logger;
  options?: NoticeDispatcherOptions;
  clock?: () => number;
  /** Officials' groups and their texts; without it, notices are only sent and retried. */
  policy?: NoticePolicy;
}

/** What the dispatcher needs to know about officials' groups, and the texts it writes to them. */
export interface NoticePolicy {
  /** The district officials' group: alerts, and notices whose commune group lost the bot. */
  districtChatId: string | null;
  /** Chat ids of the officials' groups (their notices wait for the bot rather than being given up). */
  officialsChats: ReadonlySet<string>;
  /** Notices one group receives per minute for one commune; the rest of that minute go in one digest. */
  noticesPerMinute: number;
  /** A text for officials (Vietnamese). */
  text(key: string, vars?: Record<string, unknown>): string;
  communeName(commune: string): string;
  /** A record's officials' notice went out (directly or in a digest): the citizen may now be told. */
  onDelivered(recordId: number): Promise<void>;
}

const MINUTE_MS = 60_000;

/**
 * Sends queued notices (to officials' groups, and status updates to citizens). Notices are rows in the records
 * database, written in the same transaction as their record, so a notice is never lost, and never silently given
 * up: a group that removed the bot gets it when the bot is back (or the district group gets it after `groupWaitMs`);
 * a photo the platform refuses is replaced by a line saying so; after `maxAttempts` failures the district group is
 * alerted. A group gets at most `noticesPerMinute` notices a minute per commune, the others in one digest. Any
 * number of processes may run a dispatcher; each notice is claimed by one (FOR UPDATE SKIP LOCKED).
 */
export class NoticeDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  private readonly options: NoticeDispatcherOptions;
  private readonly clock: () => number;
  private readonly policy: NoticePolicy | null;

  constructor(private readonly deps: NoticeDispatcherDeps) {
    this.options = deps.options ?? DEFAULT_NOTICE_OPTIONS;
    this.clock = deps.clock ?? Date.now;
    this.policy = deps.policy ?? null;
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
    this.running = this.runLoop().finally(() => {
      this.running = null;
    });
  }

  /** The bot is back in a chat (`my_chat_member`): what waited for it goes out now. */
  async onReachable(channel: PendingNotice['channel'], recipient: string): Promise<void> {
    if ((await this.deps.repo.wakeWaitingNotices(channel, recipient, new Date(this.clock()))) > 0) this.kick();
  }

  /** Resolves when no run started by `kick` is in progress. */
  async settle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /**
   * Sends every notice that is due; resolves when none is left (tests call it directly). One loop at a time: a call
   * while a run is in progress waits for it, then looks again.
   */
  async runUntilIdle(): Promise<void> {
    await this.settle();
    this.running = this.runLoop().finally(() => {
      this.running = null;
    });
    await this.running;
  }

  private async runLoop(): Promise<void> {
    do {
      this.again = false;
      // Stopping ends the loop between batches: what is left is claimed again after a restart.
      while (!this.stopped) {
        let batch;
        try {
          batch = await this.deps.repo.claimDueNotices(new Date(this.clock()), 20, this.options.leaseMs);
        } catch (err) {
          this.deps.log.error({ err: describeError(err) }, 'could not read queued notices; will retry');
          return;
        }
        if (batch.length === 0) break;
        for (const notice of batch) {
          try {
            await this.handleOne(notice);
          } catch (err) {
            // The database failed while recording the outcome: the claim expires and the notice is tried again.
            this.deps.log.error({ notice: notice.id, err: describeError(err) }, 'notice outcome could not be recorded; it will be tried again');
          }
        }
      }
    } while (this.again && !this.stopped);
  }

  private isOfficials(n: PendingNotice): boolean {
    return this.policy?.officialsChats.has(n.recipient) === true || (n.recordChatId !== null && n.recipient === n.recordChatId);
  }

  private async handleOne(n: PendingNotice): Promise<void> {
    if (n.redactText !== null) return this.redact(n);
    if (n.digest) return this.sendDigest(n);
    if (await this.holdForCeiling(n)) return;
    await this.sendOne(n);
  }

  /** Beyond the group's ceiling for this commune and minute: held back, and listed in the next digest. */
  private async holdForCeiling(n: PendingNotice): Promise<boolean> {
    if (!this.policy || n.recordId === null || n.commune === null || !this.isOfficials(n) || !n.replies.some((r) => r.kind === 'choices')) return false;
    const now = this.clock();
    const sent = await this.deps.repo.countNoticesSentSince(n.channel, n.recipient, n.commune, new Date(now - MINUTE_MS));
    if (sent < this.policy.noticesPerMinute) return false;
    await this.deps.repo.holdForDigest({ recordId: n.recordId, channel: n.channel, recipient: n.recipient }, new Date(now), new Date(now + MINUTE_MS));
    this.deps.log.info({ notice: n.id, commune: n.commune }, 'officials group reached its notices per minute: held back for the digest');
    return true;
  }

  private async sendDigest(n: PendingNotice): Promise<void> {
    const held = await this.deps.repo.heldNotices(n.channel, n.recipient);
    const byCommune = new Map<string, string[]>();
    for (const h of held) {
      const refs = byCommune.get(h.commune) ?? [];
      if (h.reference && !refs.includes(h.reference)) refs.push(h.reference);
      byCommune.set(h.commune, refs);
    }
    const lines = [...byCommune].map(([commune, refs]) =>
      this.policy!.text('officials.digest', { count: refs.length, commune: this.policy!.communeName(commune), references: refs.join(', ') }),
    );
    if (lines.length === 0) {
      await this.deps.repo.markNoticeSent(n.id, new Date(this.clock()));
      return;
    }
    const sent = await this.trySend({ ...n, replies: [{ kind: 'text', text: lines.join('\n') }] });
    if (!sent) return;
    await this.deps.repo.markDigested(
      held.map((h) => h.id),
      new Date(this.clock()),
    );
    for (const recordId of new Set(held.map((h) => h.recordId))) await this.policy!.onDelivered(recordId);
  }

  private async sendOne(n: PendingNotice): Promise<void> {
    if (!(await this.trySend(n))) return;
    if (n.recordId !== null && n.recordChatId === n.recipient && n.replies.some((r) => r.kind === 'choices')) await this.policy?.onDelivered(n.recordId);
  }

  /** Sends; on failure records what happens next. True when the notice went out. */
  private async trySend(n: PendingNotice): Promise<boolean> {
    const now = new Date(this.clock());
    try {
      // The channel's sender refuses a recipient marked unreachable (RecipientUnreachableError) without calling the platform.
      const receipt = await this.deps.outbound.send(n.channel, n.recipient, n.replies);
      await this.deps.repo.markNoticeSent(n.id, new Date(this.clock()), receipt.messageIds);
      return true;
    } catch (err) {
      if (err instanceof RecipientUnreachableError) await this.onUnreachable(n, err, now);
      else if (err instanceof ContentRefusedError) await this.onRefused(n, err, now);
      else await this.onFailure(n, describeError(err).message, now);
      return false;
    }
  }

  private async onUnreachable(n: PendingNotice, err: RecipientUnreachableError, now: Date): Promise<void> {
    // The channel's sender owns reachability: it has marked the recipient already.
    if (!this.isOfficials(n)) {
      // A citizen who blocked the bot: nothing can reach them until they come back.
      await this.deps.repo.markNoticeFailed(n.id, err.message, null, now);
      this.deps.log.warn({ channel: n.channel, recipient: userTag(n.recipient), notice: n.id }, 'notice recipient unreachable; not retried');
      return;
    }
    const since = n.waitingSince ?? now;
    const district = this.policy?.districtChatId ?? null;
    if (now.getTime() - since.getTime() >= this.options.groupWaitMs && district && district !== n.recipient) {
      const note = this.policy!.text('officials.groupMissing', { commune: n.commune ? this.policy!.communeName(n.commune) : n.recipient });
      await this.deps.repo.rerouteNotice(n.id, n.recordChatId === n.recipient ? n.recordId : null, district, [{ kind: 'text', text: note }, ...n.replies], now);
      this.deps.log.warn({ notice: n.id, chat: n.recipient }, 'officials group still without the bot: notice sent to the district group');
      this.again = true;
      return;
    }
    await this.deps.repo.markNoticeWaiting(n.id, since, new Date(now.getTime() + this.options.recheckMs));
    if (!n.waitingSince) this.deps.log.warn({ notice: n.id, chat: n.recipient }, 'officials group removed the bot: the notice waits for it to be back');
  }

  private async onRefused(n: PendingNotice, err: ContentRefusedError, now: Date): Promise<void> {
    // A record's photo: by address or file id (`image`), or uploaded from this server (`picture`).
    const isPhoto = (r: Reply) => r.kind === 'image' || (r.kind === 'picture' && n.recordId !== null);
    if (n.replies.some(isPhoto) && this.policy) {
      const replies = n.replies.map((r) => (isPhoto(r) ? { kind: 'text' as const, text: this.policy!.text('officials.photoRefused', { reference: n.reference ?? '' }) } : r));
      await this.deps.repo.replaceNoticeReplies(n.id, replies, now);
      this.deps.log.warn({ notice: n.id, reason: err.reason }, 'the platform refused the photo of a notice: sent without it');
      this.again = true;
      return;
    }
    await this.giveUp(n, err.message, now);
  }

  private async onFailure(n: PendingNotice, error: string, now: Date): Promise<void> {
    if (n.attempts + 1 >= this.options.maxAttempts) {
      await this.giveUp(n, error, now);
      return;
    }
    const backoff = Math.min(this.options.firstBackoffMs * 2 ** n.attempts, this.options.maxBackoffMs);
    await this.deps.repo.markNoticeFailed(n.id, error, new Date(now.getTime() + backoff), now);
    this.deps.log.warn({ channel: n.channel, notice: n.id, attempts: n.attempts + 1, retryInMs: backoff, err: error }, 'notice not delivered; will retry');
  }

  /** Never silent: the district group is told which notice could not be delivered (the log says it otherwise). */
  private async giveUp(n: PendingNotice, error: string, now: Date): Promise<void> {
    await this.deps.repo.markNoticeFailed(n.id, error, null, now);
    const district = this.policy?.districtChatId ?? null;
    this.deps.log.error({ channel: n.channel, notice: n.id, attempts: n.attempts + 1, err: error }, 'notice given up after repeated failures');
    if (!district || district === n.recipient || !this.isOfficials(n)) return;
    const text = this.policy!.text('officials.undeliverable', { what: n.reference ?? `#${n.id}`, chat: n.recipient, attempts: n.attempts + 1, reason: error.slice(0, 200) });
    await this.deps.repo.enqueueNotice({ recordId: null, channel: 'telegram', recipient: district, replies: [{ kind: 'text', text }], now });
    this.again = true;
  }

  /** Edits the messages of a notice whose citizen erased their data, then forgets them. */
  private async redact(n: PendingNotice): Promise<void> {
    const now = new Date(this.clock());
    try {
      await this.deps.outbound.redact(n.channel, n.recipient, n.messageIds, n.redactText!);
      await this.deps.repo.deleteNotice(n.id);
    } catch (err) {
      if (n.attempts + 1 >= this.options.maxAttempts || err instanceof RecipientUnreachableError) {
        // Nothing personal is left in the row (group, message ids, the redacted text); the posted copy stays.
        await this.deps.repo.deleteNotice(n.id);
        this.deps.log.error({ notice: n.id, chat: n.recipient, err: describeError(err) }, 'a posted notice could not be redacted after an erasure; remove it in the group by hand');
        return;
      }
      const backoff = Math.min(this.options.firstBackoffMs * 2 ** n.attempts, this.options.maxBackoffMs);
      await this.deps.repo.markNoticeFailed(n.id, describeError(err).message, new Date(now.getTime() + backoff), now);
    }
  }
}

/**
 * The same reachability, telling the dispatcher when a chat can be reached again (the bot was added back to a group,
 * `my_chat_member`), so that the notices waiting for it go out at once.
 */
export function wakingNoticesOnReachable(reachability: Reachability, dispatcher: () => NoticeDispatcher | null): Reachability {
  return {
    markUnreachable: (channel, userId, reason) => reachability.markUnreachable(channel, userId, reason),
    isReachable: (channel, userId) => reachability.isReachable(channel, userId),
    markReachable: async (channel, userId) => {
      await reachability.markReachable(channel, userId);
      await dispatcher()?.onReachable(channel, userId);
    },
  };
}
