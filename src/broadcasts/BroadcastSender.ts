import crypto from 'node:crypto';
import type { ChannelName, Locale, Reply } from '../engine/types';
import type { Logger } from '../logger';
import { RateLimitedError, RecipientOutsideWindowError, RecipientUnreachableError, type Outbound } from '../outbound/Outbound';
import { describeError } from '../errors';
import { sleep } from '../util/sleep';
import { deliveryKey, type Broadcast, type BroadcastRepository, type ClaimedDelivery, type DeliveryOutcome } from './BroadcastRepository';
import type { RateLimiter } from '../util/RateLimiter';

export interface SenderChannel {
  channel: ChannelName;
  /** Global (all processes) send rate of broadcasts on this channel. */
  limiter: RateLimiter;
  /** Deliveries claimed and in flight at once in this process. */
  concurrency: number;
}

export interface BroadcastSenderOptions {
  /** How long a claimed delivery is ours; after that, if still `sending`, it counts as in flight when we died. */
  leaseMs: number;
  /** Pause when there is nothing to send. */
  idleMs: number;
  maxAttempts: number;
  firstBackoffMs: number;
  /** Progress messages to the group that started a broadcast, at most this often. */
  progressEveryMs: number;
  /**
   * A sender's heartbeat is written every second and holds for this long: when a sender is killed, the rows it held
   * are taken over after this (seconds), not after the whole lease.
   */
  aliveMs: number;
  /** How many times an urgent delivery lost in flight (its sender died) is sent again. */
  maxResends: number;
}

export const DEFAULT_SENDER_OPTIONS: BroadcastSenderOptions = { leaseMs: 60_000, idleMs: 1_000, maxAttempts: 5, firstBackoffMs: 5_000, progressEveryMs: 60_000, aliveMs: 4_000, maxResends: 3 };

export interface BroadcastSenderHooks {
  /** The message one recipient gets, in their language. */
  render(broadcast: Broadcast, locale: Locale): Reply[];
  /** A recipient blocked the bot or unfollowed: stop their subscription (and keep the announcement for them). */
  onUnreachable(channel: ChannelName, userId: string, broadcastId: number): Promise<void>;
  /** A Zalo recipient is outside the 7-day window: the other paths (template, article, their box). */
  outsideWindow?(broadcast: Broadcast, userId: string): Promise<{ status: 'template' | 'article' | 'boxed'; error?: string }>;
  /** Progress of a running broadcast, and its final report. */
  onProgress(broadcast: Broadcast): Promise<void>;
  onFinished(broadcast: Broadcast): Promise<void>;
  /** The outcomes of one batch, once recorded (metrics). */
  onOutcomes?(channel: ChannelName, outcomes: DeliveryOutcome[]): void;
}


/** Sends due within this many ms of each other are marked `sending` by one statement. */
const MARK_AHEAD_MS = 25;

interface PlannedSend {
  delivery: ClaimedDelivery;
  broadcast: Broadcast;
  /** When its reserved slot at the channel's rate comes (this process's clock). */
  sendAt: number;
}

/** A claimed batch: its sends by slot, and the outcomes already known (no broadcast, no slot within the lease). */
interface ClaimedBatch {
  size: number;
  due: PlannedSend[];
  outcomes: DeliveryOutcome[];
  claimedAt: number;
  /** How many "retry after" this process had heard on the channel when the slots were reserved. */
  penaltiesSeen: number;
}

const outcomeBase = (d: ClaimedDelivery) => ({ broadcastId: d.broadcastId, channel: d.channel, userId: d.userId, claim: d.claim });

/** What the broadcast sender works with; `options` and `clock` have defaults. */
export interface BroadcastSenderDeps {
  repo: BroadcastRepository;
  outbound: Outbound;
  channels: SenderChannel[];
  hooks: BroadcastSenderHooks;
  log: Logger;
  options?: BroadcastSenderOptions;
  clock?: () => number;
}

/**
 * Sends broadcast deliveries, one loop per channel, at the channel's global rate. Any number of processes may run a
 * sender: each delivery row is claimed by one of them (FOR UPDATE SKIP LOCKED) and marked `sending` before the
 * platform is called, so a process killed mid-send never causes a second message; a restarted process simply
 * continues with the rows still `pending`.
 */
export class BroadcastSender {
  private stopped = true;
  private loops: Array<Promise<void>> = [];
  private readonly cache = new Map<number, Broadcast>();
  private readonly renders = new Map<string, Reply[]>();
  /** How many "retry after" this process heard per channel: slots reserved before the last one are reserved again. */
  private readonly penalties = new Map<ChannelName, number>();
  private wake: (() => void) | null = null;
  /** Sends attempted by this process (for benchmarks and logs). */
  sentCount = 0;
  /** This sender's id in claims and heartbeats (new at every start: a restarted process is another sender). */
  private senderId: string = crypto.randomUUID();
  private lastBeat = 0;

  private readonly options: BroadcastSenderOptions;
  private readonly clock: () => number;

  constructor(private readonly deps: BroadcastSenderDeps) {
    this.options = deps.options ?? DEFAULT_SENDER_OPTIONS;
    this.clock = deps.clock ?? Date.now;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.senderId = crypto.randomUUID();
    this.lastBeat = 0;
    this.loops = [...this.deps.channels.filter((c) => this.deps.outbound.has(c.channel)).map((c) => this.channelLoop(c)), this.housekeepingLoop()];
  }

  /** A broadcast was created: stop idling. */
  kick(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await Promise.all(this.loops);
    this.loops = [];
    await this.deps.repo.retireSender(this.senderId, new Date(this.clock())).catch((err: unknown) => this.deps.log.warn({ err: describeError(err) }, 'broadcast sender: could not release its claims; they are taken over in a few seconds'));
  }

  /** Keeps this sender's claims ours (see `aliveMs`); written before claiming and every second. */
  private async beat(force = false): Promise<void> {
    const now = this.clock();
    if (!force && now - this.lastBeat < Math.min(1_000, this.options.aliveMs / 4)) return;
    this.lastBeat = now;
    await this.deps.repo.heartbeat(this.senderId, new Date(now + this.options.aliveMs));
  }

  private async idle(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = null;
  }

  /**
   * Claims the next batch (and reserves its slots) while the current one is sent: the claim no longer waits for the
   * sends, nor the sends for the claim. The next batch's rows stay `pending` until the current batch is done and they
   * are marked in turn, so at most one batch is in flight (`sending`) at a time, as without the pipelining: a process
   * killed here leaves the prefetched rows claimed but unsent, and they go out from another process once its
   * heartbeat lapses.
   */
  private async channelLoop(c: SenderChannel): Promise<void> {
    let next: Promise<ClaimedBatch | null> | null = null;
    const claimNext = () => {
      const p = this.claimBatch(c);
      p.catch(() => undefined); // awaited below; never an unhandled rejection while the current batch is sent
      return p;
    };
    while (!this.stopped) {
      let batch: ClaimedBatch | null;
      try {
        batch = await (next ?? this.claimBatch(c));
      } catch (err) {
        next = null;
        this.deps.log.error({ channel: c.channel, err: describeError(err) }, 'broadcast sender: claiming a batch failed; retrying shortly');
        await this.idle(this.options.idleMs);
        continue;
      }
      next = null;
      if (!batch) {
        await this.idle(this.options.idleMs);
        continue;
      }
      if (!this.stopped) next = claimNext();
      try {
        await this.finishBatch(c, batch);
      } catch (err) {
        // The batch claimed ahead is still ours and is sent next.
        this.deps.log.error({ channel: c.channel, err: describeError(err) }, 'broadcast sender: batch failed; retrying shortly');
        await this.idle(this.options.idleMs);
      }
    }
    // A claim still under way is let finish, so that `stop` frees its rows (`retireSender`) after it, not before.
    if (next) await (next as Promise<unknown>).catch(() => undefined);
  }

  private async housekeepingLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.beat();
        await this.housekeeping();
      } catch (err) {
        this.deps.log.error({ err: describeError(err) }, 'broadcast housekeeping failed');
      }
      await this.idle(this.options.idleMs);
    }
  }

  /** Expires deliveries left in flight by a dead process, reports progress, closes finished broadcasts. */
  async housekeeping(): Promise<void> {
    const now = new Date(this.clock());
    const expired = await this.deps.repo.expireInFlight(now, this.options.maxResends);
    if (expired.unknown > 0) this.deps.log.warn({ expired: expired.unknown }, 'general announcements were in flight when a sender stopped: counted as unknown, not resent');
    if (expired.resent > 0) this.deps.log.warn({ resent: expired.resent }, 'urgent announcements were in flight when a sender stopped: they are sent again (a few people may get them twice)');
    for (const b of await this.deps.repo.takeProgressTurn(now, this.options.progressEveryMs)) await this.deps.hooks.onProgress(b);
    for (const b of await this.deps.repo.finishCompleted(now)) {
      this.cache.delete(b.id);
      this.deps.log.info({ broadcast: b.id, total: b.total }, 'broadcast finished');
      await this.deps.hooks.onFinished(b);
    }
  }

  private async broadcast(id: number): Promise<Broadcast | null> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const b = await this.deps.repo.findBroadcast(id);
    if (b) {
      if (this.cache.size > 50) this.cache.clear();
      this.cache.set(id, b);
    }
    return b;
  }

  /** Sends everything that is due on every configured channel, then runs the housekeeping (tests, tools). */
  async runUntilIdle(): Promise<void> {
    for (;;) {
      let sent = 0;
      for (const c of this.deps.channels) if (this.deps.outbound.has(c.channel)) sent += await this.sendBatch(c);
      if (sent === 0) break;
    }
    await this.housekeeping();
  }

  /** Claims up to `concurrency` deliveries, sends them at the global rate, records the outcomes. Returns how many. */
  async sendBatch(c: SenderChannel): Promise<number> {
    const batch = await this.claimBatch(c);
    if (!batch) return 0;
    await this.finishBatch(c, batch);
    return batch.size;
  }

  /**
   * Claims up to `concurrency` due deliveries and reserves their slots at the channel's rate (one reservation of
   * several slots: one Redis call per batch, not one per message). Null when nothing is due.
   */
  private async claimBatch(c: SenderChannel): Promise<ClaimedBatch | null> {
    await this.beat();
    const claimedAt = this.clock();
    const claimed = await this.deps.repo.claimDeliveries(c.channel, new Date(claimedAt), c.concurrency, this.options.leaseMs, this.senderId);
    if (claimed.length === 0) return null;
    const outcomes: DeliveryOutcome[] = [];
    const sendable: Array<{ delivery: ClaimedDelivery; broadcast: Broadcast }> = [];
    for (const d of claimed) {
      const broadcast = await this.broadcast(d.broadcastId);
      if (broadcast) sendable.push({ delivery: d, broadcast });
      else outcomes.push({ ...outcomeBase(d), status: 'failed', error: 'broadcast not found' });
    }
    const batch: ClaimedBatch = { size: claimed.length, due: [], outcomes, claimedAt, penaltiesSeen: 0 };
    await this.reserveSlots(c, batch, sendable);
    return batch;
  }

  /** Reserves the slots of `planned` sends at the channel's rate, in one call; those beyond the lease wait for later. */
  private async reserveSlots(c: SenderChannel, batch: ClaimedBatch, planned: Array<{ delivery: ClaimedDelivery; broadcast: Broadcast }>): Promise<void> {
    const waits = await c.limiter.reserveMany(planned.length);
    batch.penaltiesSeen = this.penalties.get(c.channel) ?? 0;
    const reservedAt = this.clock();
    const due: PlannedSend[] = [];
    planned.forEach(({ delivery: d, broadcast }, i) => {
      const sendAt = reservedAt + waits[i]!;
      // Never send after our claim could have expired: another process would already count this row as lost.
      if (sendAt > batch.claimedAt + this.options.leaseMs - 5_000) batch.outcomes.push({ ...outcomeBase(d), status: 'pending', retryAt: new Date(sendAt) });
      else due.push({ delivery: d, broadcast, sendAt });
    });
    batch.due = due.sort((x, y) => x.sendAt - y.sendAt);
  }

  /** Sends a claimed batch at its reserved slots and records every outcome in one statement. */
  private async finishBatch(c: SenderChannel, batch: ClaimedBatch): Promise<void> {
    // Claimed while the previous batch was sent: if that one heard "retry after", these slots predate the pause.
    if ((this.penalties.get(c.channel) ?? 0) !== batch.penaltiesSeen) await this.reserveSlots(c, batch, batch.due);
    const { due, outcomes } = batch;
    const sends: Array<Promise<DeliveryOutcome>> = [];
    /*
     * Rows are marked `sending` in one UPDATE per group of sends due within MARK_AHEAD_MS of each other (not one per
     * message): the statement per message was the send path's largest cost. A row is still marked only just before
     * its send, so a process killed mid-batch leaves at most that window's rows counted as in flight, as before.
     */
    for (let i = 0; i < due.length; ) {
      let j = i + 1;
      while (j < due.length && due[j]!.sendAt <= due[i]!.sendAt + MARK_AHEAD_MS) j++;
      const group = due.slice(i, j);
      i = j;
      const wait = group[0]!.sendAt - this.clock();
      if (wait > 0) await sleep(wait);
      // Committed before the platform is called: from here on, these rows are never sent again.
      const ours = await this.deps.repo.markSendingAll(group.map((p) => p.delivery));
      for (const p of group) {
        // A row whose claim was lost before sending belongs to another process now: no outcome of ours.
        if (!ours.has(deliveryKey(p.delivery))) continue;
        const wait = p.sendAt - this.clock();
        sends.push(wait > 0 ? sleep(wait).then(() => this.send(c, p)) : this.send(c, p));
      }
    }
    outcomes.push(...(await Promise.all(sends)));
    await this.deps.repo.recordOutcomes(outcomes, new Date(this.clock()));
    this.deps.hooks.onOutcomes?.(c.channel, outcomes);
  }

  /** The message of a broadcast in one language, rendered once per broadcast and language (not once per recipient). */
  private rendered(broadcast: Broadcast, locale: Locale): Reply[] {
    const key = `${broadcast.id}:${locale}`;
    let replies = this.renders.get(key);
    if (!replies) {
      if (this.renders.size > 100) this.renders.clear();
      replies = this.deps.hooks.render(broadcast, locale);
      this.renders.set(key, replies);
    }
    return replies;
  }

  /** Sends one delivery already marked `sending`; says what became of it. */
  private async send(c: SenderChannel, p: PlannedSend): Promise<DeliveryOutcome> {
    const { delivery: d, broadcast } = p;
    const base = outcomeBase(d);
    try {
      this.sentCount++;
      await this.deps.outbound.send(d.channel, d.userId, this.rendered(broadcast, d.locale), { bulk: true });
      return { ...base, status: 'sent' };
    } catch (err) {
      if (err instanceof RateLimitedError) {
        await c.limiter.penalize(err.retryAfterMs);
        // Counted once the pause is in the limiter: a reservation answered after this one already waits for it.
        this.penalties.set(c.channel, (this.penalties.get(c.channel) ?? 0) + 1);
        return { ...base, status: 'pending', error: err.message, retryAt: new Date(this.clock() + err.retryAfterMs) };
      }
      if (err instanceof RecipientUnreachableError) {
        // Marked unreachable by the channel's sender, which owns reachability; the subscription stops here.
        await this.deps.hooks.onUnreachable(d.channel, d.userId, d.broadcastId);
        return { ...base, status: 'unreachable', error: err.reason };
      }
      if (err instanceof RecipientOutsideWindowError) {
        if (!this.deps.hooks.outsideWindow) return { ...base, status: 'outside_window', error: err.message };
        return { ...base, ...(await this.deps.hooks.outsideWindow(broadcast, d.userId)) };
      }
      const reason = describeError(err).message;
      if (d.attempts >= this.options.maxAttempts) return { ...base, status: 'failed', error: reason };
      return { ...base, status: 'pending', error: reason, retryAt: new Date(this.clock() + this.options.firstBackoffMs * 2 ** (d.attempts - 1)) };
    }
  }
}
