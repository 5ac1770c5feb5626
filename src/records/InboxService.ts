import { rangeInstants, type DateRange } from '../campaign/figures';
import type { Locality } from '../locality/localitySchema';
import type { Logger } from '../logger';
import { describeError } from '../errors';
import { communesOf, scopeCovers, type OfficialsScope } from './officialsScope';
import type { RecordKind, RecordStatus, StoredRecord, Urgency } from './RecordsRepository';
import type { RecordsService } from './RecordsService';

export interface InboxFilter {
  commune?: string;
  kind?: RecordKind;
  urgency?: Urgency;
  status?: RecordStatus;
  range: DateRange;
  /** Part of a reference, e.g. "KB-210715" or "0042". */
  reference?: string;
  limit: number;
}

/** One line of the inbox: no personal data (that is shown, and audited, only on the record's own page). */
export interface InboxLine {
  id: number;
  reference: string;
  kind: RecordKind;
  commune: string;
  urgency: Urgency;
  status: RecordStatus;
  createdAt: Date;
  firstActionAt: Date | null;
}

export type StatusChangeOutcome = { ok: true; changed: boolean; record: StoredRecord } | { ok: false; reason: 'not-found' };

/**
 * The officials' inbox outside Telegram (the dashboard, `/timbaocao`): declarations and reports in an official's
 * scope, found by filters or reference, and their status changed through the same state machine as the group's
 * buttons. A record outside the scope is "not found", never "forbidden" (its existence is not revealed).
 */
export class InboxService {
  constructor(
    private readonly records: RecordsService,
    private readonly locality: Locality,
    private readonly log: Logger,
    private readonly onNoticeQueued: () => void,
    private readonly clock: () => number = Date.now,
  ) {}

  async list(filter: InboxFilter, scope: OfficialsScope): Promise<InboxLine[]> {
    const communes = filter.commune ? (scopeCovers(scope, filter.commune) ? [filter.commune] : []) : communesOf(scope, this.locality);
    const { start, end } = rangeInstants(filter.range, this.locality.records.timezone);
    const rows = await this.records.repo.db.query<{ id: number; reference: string; kind: RecordKind; commune: string; urgency: Urgency; status: RecordStatus; created_at: Date | string; first_at: Date | string | null }>(
      `SELECT r.id, r.reference, r.kind, r.commune, r.urgency, r.status, r.created_at,
              (SELECT min(changed_at) FROM record_status_changes c WHERE c.record_id = r.id) AS first_at
         FROM records r
        WHERE r.commune = ANY($1::text[]) AND r.created_at >= $2 AND r.created_at < $3
          AND ($4::text IS NULL OR r.kind = $4) AND ($5::text IS NULL OR r.urgency = $5) AND ($6::text IS NULL OR r.status = $6)
          AND ($7::text IS NULL OR r.reference ILIKE '%' || $7 || '%')
        ORDER BY CASE r.urgency WHEN 'urgent' THEN 0 WHEN 'notice' THEN 1 ELSE 2 END, r.status = 'resolved', r.created_at DESC
        LIMIT $8`,
      [communes, start.toISOString(), end.toISOString(), filter.kind ?? null, filter.urgency ?? null, filter.status ?? null, filter.reference?.replace(/[%_\\]/g, '') || null, filter.limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      reference: r.reference,
      kind: r.kind,
      commune: r.commune,
      urgency: r.urgency,
      status: r.status,
      createdAt: new Date(r.created_at),
      firstActionAt: r.first_at ? new Date(r.first_at) : null,
    }));
  }

  /** The record with this reference in the scope, or null. */
  async find(reference: string, scope: OfficialsScope): Promise<StoredRecord | null> {
    const rows = await this.records.repo.db.query<{ id: number }>(`SELECT id FROM records WHERE reference = $1`, [reference.trim().toUpperCase()]);
    const record = rows[0] ? await this.records.repo.findRecord(Number(rows[0].id)) : null;
    return record && scopeCovers(scope, record.commune) ? record : null;
  }

  history(record: StoredRecord) {
    return this.records.repo.statusChanges(record.id);
  }

  /**
   * Acknowledges or resolves a record from the dashboard: the same state machine and "the citizen is told" as the
   * group's buttons, and the group that received the notice is told who did it.
   */
  async changeStatus(reference: string, status: 'acknowledged' | 'resolved', official: { id: string; name: string }, scope: OfficialsScope): Promise<StatusChangeOutcome> {
    const record = await this.find(reference, scope);
    if (!record) return { ok: false, reason: 'not-found' };
    const now = new Date(this.clock());
    const result = await this.records.changeStatus(record.id, status, { officialId: official.id, officialName: official.name, chatId: 'dashboard' }, now, (r) => scopeCovers(scope, r.commune));
    if (!result.ok) return { ok: false, reason: 'not-found' };
    if (result.changed && record.noticeChatId) {
      const key = status === 'acknowledged' ? 'officials.acknowledgedBy' : 'officials.resolvedBy';
      const text = `${this.records.officialsText(key, { reference: record.reference, name: official.name, time: this.records.formatTime(now) })} ${this.records.officialsText('officials.viaDashboard')}`;
      await this.records.repo.enqueueNotice({ recordId: record.id, channel: 'telegram', recipient: record.noticeChatId, replies: [{ kind: 'text', text }], now });
      this.onNoticeQueued();
    }
    this.log.info({ reference: record.reference, status, changed: result.changed, via: 'dashboard' }, 'record status changed');
    return { ok: true, changed: result.changed, record: result.record };
  }
}

/**
 * Urgent records nobody acknowledged within `minutes` are reminded once in the group that received them, with the
 * same buttons as the notice. Every process may run it: the reminder is claimed once (daily_jobs).
 */
export class UrgentReminders {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly records: RecordsService,
    private readonly minutes: number,
    private readonly log: Logger,
    private readonly onNoticeQueued: () => void,
    private readonly clock: () => number = Date.now,
    private readonly intervalMs = 60_000,
  ) {}

  /** Sends the reminders that are due now; returns how many. */
  async runOnce(): Promise<number> {
    if (this.minutes <= 0) return 0;
    const now = new Date(this.clock());
    const due = await this.records.repo.db.query<{ id: number; reference: string; notice_chat_id: string; created_at: Date | string }>(
      `SELECT id, reference, notice_chat_id, created_at FROM records
        WHERE urgency = 'urgent' AND status = 'new' AND notice_chat_id IS NOT NULL AND created_at <= $1 AND created_at > $2
        ORDER BY created_at LIMIT 100`,
      [new Date(now.getTime() - this.minutes * 60_000).toISOString(), new Date(now.getTime() - 7 * 86_400_000).toISOString()],
    );
    let sent = 0;
    for (const r of due) {
      const day = this.records.localDate(new Date(r.created_at));
      if (!(await this.records.repo.claimJob('urgent-reminder', String(r.id), day))) continue;
      const text = this.records.officialsText('officials.urgentReminder', { reference: r.reference, minutes: this.minutes });
      await this.records.repo.enqueueNotice({
        recordId: Number(r.id),
        channel: 'telegram',
        recipient: r.notice_chat_id,
        replies: [{ kind: 'choices', text, options: [{ id: `rec:ack:${r.id}`, label: this.records.officialsText('officials.ack') }] }],
        now,
      });
      sent++;
    }
    if (sent) {
      this.log.info({ reminders: sent }, 'urgent records not acknowledged: reminded in their groups');
      this.onNoticeQueued();
    }
    return sent;
  }

  start(): void {
    if (this.minutes <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.log.error({ err: describeError(err) }, 'urgent reminders failed; trying again in a minute'))
        .finally(() => (this.running = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
