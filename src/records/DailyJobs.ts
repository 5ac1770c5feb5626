import { userTag, type Logger } from '../logger';
import type { Outbound } from '../outbound/Outbound';
import { describeError } from '../errors';
import type { EventPipeline } from '../pipeline/EventPipeline';
import type { Reachability } from '../users/Reachability';
import type { RecordsService } from './RecordsService';

/** What the daily jobs work with; `clock` defaults to the system clock. */
export interface DailyJobsDeps {
  service: RecordsService;
  pipeline: EventPipeline;
  outbound: Outbound;
  reachability: Reachability;
  reminderHour: number;
  log: Logger;
  onNoticeQueued: () => void;
  /**
   * Other personal data with a retention period (announcement boxes, phones shared on Zalo, venue check-ins):
   * purged in the same once-a-day run.
   */
  clock?: () => number;
}

/**
 * The daily work, safe with any number of processes and across restarts (all state is in the database):
 * - at the reminder hour, each person in home quarantine is asked for today's update (the `daily` flow, started
 *   through the pipeline with the event id `reminder:<enrolment>:<day>`, so it happens once per day per person);
 * - a day without an update is flagged to the officials' group, once;
 * - records past their retention period are deleted, once a day.
 */
export class DailyJobs {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  private readonly clock: () => number;

  constructor(private readonly deps: DailyJobsDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  start(everyMs = 60_000): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = null));
    }, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    try {
      const now = new Date(this.clock());
      const today = this.deps.service.localDate(now);
      const repo = this.deps.service.repo;
      if (await repo.claimJob('retention', 'all', today)) {
        const deleted = await this.deps.service.purgeExpired(now);
        this.deps.log.info({ deleted }, 'retention: expired personal data deleted');
      }
      if (this.deps.service.localHour(now) < this.deps.reminderHour) return;
      await this.remind(today);
      await this.flagMissed(this.deps.service.addDays(today, -1), now);
    } catch (err) {
      this.deps.log.error({ err: describeError(err) }, 'daily jobs failed; will retry at the next tick');
    }
  }

  private async remind(today: string): Promise<void> {
    const repo = this.deps.service.repo;
    for (const e of await repo.enrolmentsActiveOn(today)) {
      if (!this.deps.outbound.has(e.channel) || !(await this.deps.reachability.isReachable(e.channel, e.userId))) continue;
      if (await repo.hasDailyUpdate(e.id, today)) continue;
      if (await repo.hasJob('reminder', String(e.id), today)) continue;
      // The mark is written after the reminder went through the pipeline, so a crash before it only means trying
      // again; if two processes race, the pipeline's de-duplication on the event id keeps it to one reminder.
      try {
        await this.deps.pipeline.handle({ channel: e.channel, userId: e.userId, eventId: `reminder:${e.id}:${today}`, kind: 'start', payload: 'daily' }, async (replies) => {
          await this.deps.outbound.send(e.channel, e.userId, replies);
        });
        await repo.claimJob('reminder', String(e.id), today);
      } catch (err) {
        this.deps.log.warn({ user: userTag(`${e.channel}:${e.userId}`), err: describeError(err) }, 'daily reminder failed');
      }
    }
  }

  private async flagMissed(yesterday: string, now: Date): Promise<void> {
    const repo = this.deps.service.repo;
    for (const e of await repo.enrolmentsActiveOn(yesterday)) {
      if (await repo.hasDailyUpdate(e.id, yesterday)) continue;
      const record = await repo.findRecord(e.recordId);
      if (!record?.noticeChatId) continue;
      if (!(await repo.claimJob('missed', String(e.id), yesterday))) continue;
      const text = this.deps.service.officialsText('officials.missedDay', { reference: record.reference, commune: this.deps.service.communeName(record.commune), day: yesterday.split('-').reverse().join('/') });
      await repo.enqueueNotice({ recordId: record.id, channel: 'telegram', recipient: record.noticeChatId, replies: [{ kind: 'text', text }], now });
      this.deps.onNoticeQueued();
    }
  }
}
