import type { ChannelName, JsonValue, Reply } from '../engine/types';
import type { Database, Queryable } from '../db/Database';

export type RecordKind = 'declaration' | 'symptoms' | 'entrant';
export type RecordStatus = 'new' | 'acknowledged' | 'resolved';
export type Urgency = 'urgent' | 'notice' | 'info';

export const REFERENCE_PREFIX: Record<RecordKind, string> = { declaration: 'KB', symptoms: 'TC', entrant: 'PA' };

export interface StoredRecord {
  id: number;
  reference: string;
  kind: RecordKind;
  channel: ChannelName;
  userId: string;
  commune: string;
  urgency: Urgency;
  status: RecordStatus;
  data: Record<string, JsonValue>;
  triageLevel: string | null;
  ruleVersion: string | null;
  reporterVisible: boolean;
  noticeChatId: string | null;
  createdAt: Date;
}

export interface NewRecord {
  kind: RecordKind;
  channel: ChannelName;
  userId: string;
  commune: string;
  urgency: Urgency;
  data: Record<string, JsonValue>;
  triageLevel?: string;
  ruleVersion?: string;
  reporterVisible: boolean;
  /** `channel:eventId` of the confirmation. */
  idempotencyKey: string;
  /** The officials' group to notify, or null when none is configured. */
  noticeChatId: string | null;
  /** The local date of `now` as YYMMDD, for the reference number. */
  localDay: string;
  now: Date;
  deleteAfter: Date;
}

export interface PendingNotice {
  id: number;
  recordId: number | null;
  channel: ChannelName;
  recipient: string;
  replies: Reply[];
  attempts: number;
}

interface RecordRow {
  id: number;
  reference: string;
  kind: RecordKind;
  channel: ChannelName;
  user_id: string;
  commune: string;
  urgency: Urgency;
  status: RecordStatus;
  data: Record<string, JsonValue> | string;
  triage_level: string | null;
  rule_version: string | null;
  reporter_visible: boolean;
  notice_chat_id: string | null;
  created_at: Date | string;
}

const RECORD_COLUMNS = 'id, reference, kind, channel, user_id, commune, urgency, status, data, triage_level, rule_version, reporter_visible, notice_chat_id, created_at';

function json<T>(v: T | string): T {
  return typeof v === 'string' ? (JSON.parse(v) as T) : v;
}

function toRecord(r: RecordRow): StoredRecord {
  return {
    id: Number(r.id),
    reference: r.reference,
    kind: r.kind,
    channel: r.channel,
    userId: r.user_id,
    commune: r.commune,
    urgency: r.urgency,
    status: r.status,
    data: json(r.data),
    triageLevel: r.triage_level,
    ruleVersion: r.rule_version,
    reporterVisible: r.reporter_visible,
    noticeChatId: r.notice_chat_id,
    createdAt: new Date(r.created_at),
  };
}

export function formatReference(kind: RecordKind, localDay: string, n: number): string {
  return `${REFERENCE_PREFIX[kind]}-${localDay}-${String(n).padStart(4, '0')}`;
}

/** Everything the records database is asked, in SQL that runs the same on PostgreSQL and PGlite. */
export class RecordsRepository {
  constructor(readonly db: Database) {}

  /**
   * Stores a confirmed record and, in the same transaction, the notice for the officials' group (so a record is never
   * stored without its notice, nor a notice sent for a record that was not stored). A second call with the same
   * idempotency key returns the first record and stores nothing.
   */
  async createRecord(input: NewRecord, notice: (record: StoredRecord) => Reply[] | null): Promise<{ record: StoredRecord; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const existing = await tx.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE idempotency_key = $1`, [input.idempotencyKey]);
      if (existing[0]) return { record: toRecord(existing[0]), created: false };
      const prefix = REFERENCE_PREFIX[input.kind];
      const [counter] = await tx.query<{ n: number }>(
        `INSERT INTO reference_counters (prefix, day, n) VALUES ($1, $2, 1)
         ON CONFLICT (prefix, day) DO UPDATE SET n = reference_counters.n + 1 RETURNING n`,
        [prefix, input.localDay],
      );
      const reference = formatReference(input.kind, input.localDay, Number(counter!.n));
      const [row] = await tx.query<RecordRow>(
        `INSERT INTO records (reference, kind, channel, user_id, commune, urgency, data, triage_level, rule_version, reporter_visible,
                              idempotency_key, notice_chat_id, created_at, updated_at, delete_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $13, $14)
         RETURNING ${RECORD_COLUMNS}`,
        [
          reference,
          input.kind,
          input.channel,
          input.userId,
          input.commune,
          input.urgency,
          JSON.stringify(input.data),
          input.triageLevel ?? null,
          input.ruleVersion ?? null,
          input.reporterVisible,
          input.idempotencyKey,
          input.noticeChatId,
          input.now.toISOString(),
          input.deleteAfter.toISOString(),
        ],
      );
      const record = toRecord(row!);
      const replies = input.noticeChatId ? notice(record) : null;
      if (replies && input.noticeChatId) await this.enqueue(tx, { recordId: record.id, channel: 'telegram', recipient: input.noticeChatId, replies, now: input.now });
      return { record, created: true };
    });
  }

  async enqueue(q: Queryable, n: { recordId: number | null; channel: ChannelName; recipient: string; replies: Reply[]; now: Date }): Promise<void> {
    await q.query(
      `INSERT INTO notices (record_id, channel, recipient, replies, next_attempt_at, created_at) VALUES ($1, $2, $3, $4::jsonb, $5, $5)`,
      [n.recordId, n.channel, n.recipient, JSON.stringify(n.replies), n.now.toISOString()],
    );
  }

  async enqueueNotice(n: { recordId: number | null; channel: ChannelName; recipient: string; replies: Reply[]; now: Date }): Promise<void> {
    await this.enqueue(this.db, n);
  }

  async findRecord(id: number): Promise<StoredRecord | null> {
    const rows = await this.db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async recordsOfUser(channel: ChannelName, userId: string, limit: number): Promise<StoredRecord[]> {
    const rows = await this.db.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM records WHERE channel = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3`,
      [channel, userId, limit],
    );
    return rows.map(toRecord);
  }

  async countReportsSince(channel: ChannelName, userId: string, since: Date): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM records WHERE channel = $1 AND user_id = $2 AND kind IN ('symptoms', 'entrant') AND created_at > $3`,
      [channel, userId, since.toISOString()],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * Changes a record's status on behalf of an official in a group chat. Only the group the notice went to may do it;
   * each change is stored with who made it and when.
   */
  async changeStatus(
    id: number,
    status: Exclude<RecordStatus, 'new'>,
    by: { officialId: string; officialName: string; chatId: string },
    now: Date,
  ): Promise<{ ok: true; record: StoredRecord; changed: boolean } | { ok: false; reason: 'not-found' | 'wrong-chat' }> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1 FOR UPDATE`, [id]);
      const row = rows[0];
      if (!row) return { ok: false as const, reason: 'not-found' as const };
      if (row.notice_chat_id !== by.chatId) return { ok: false as const, reason: 'wrong-chat' as const };
      const order: Record<RecordStatus, number> = { new: 0, acknowledged: 1, resolved: 2 };
      if (order[row.status] >= order[status]) return { ok: true as const, record: toRecord(row), changed: false };
      const [updated] = await tx.query<RecordRow>(`UPDATE records SET status = $2, updated_at = $3 WHERE id = $1 RETURNING ${RECORD_COLUMNS}`, [id, status, now.toISOString()]);
      await tx.query(
        `INSERT INTO record_status_changes (record_id, status, official_id, official_name, chat_id, changed_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [id, status, by.officialId, by.officialName, by.chatId, now.toISOString()],
      );
      return { ok: true as const, record: toRecord(updated!), changed: true };
    });
  }

  async statusChanges(recordId: number): Promise<Array<{ status: string; officialId: string; officialName: string; chatId: string; changedAt: Date }>> {
    const rows = await this.db.query<{ status: string; official_id: string; official_name: string; chat_id: string; changed_at: Date | string }>(
      `SELECT status, official_id, official_name, chat_id, changed_at FROM record_status_changes WHERE record_id = $1 ORDER BY id`,
      [recordId],
    );
    return rows.map((r) => ({ status: r.status, officialId: r.official_id, officialName: r.official_name, chatId: r.chat_id, changedAt: new Date(r.changed_at) }));
  }

  /**
   * Claims up to `limit` notices that are due, for `leaseMs`: other processes skip them meanwhile
   * (FOR UPDATE SKIP LOCKED), and a process that dies mid-send leaves them to be claimed again after the lease.
   */
  async claimDueNotices(now: Date, limit: number, leaseMs: number): Promise<PendingNotice[]> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<{ id: number; record_id: number | null; channel: ChannelName; recipient: string; replies: Reply[] | string; attempts: number }>(
        `SELECT id, record_id, channel, recipient, replies, attempts FROM notices
          WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $1
          ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now.toISOString(), limit],
      );
      if (rows.length === 0) return [];
      await tx.query(`UPDATE notices SET next_attempt_at = $2 WHERE id = ANY($1::int[])`, [rows.map((r) => Number(r.id)), new Date(now.getTime() + leaseMs).toISOString()]);
      return rows.map((r) => ({ id: Number(r.id), recordId: r.record_id === null ? null : Number(r.record_id), channel: r.channel, recipient: r.recipient, replies: json(r.replies), attempts: Number(r.attempts) }));
    });
  }

  async markNoticeSent(id: number, now: Date): Promise<void> {
    await this.db.query(`UPDATE notices SET sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1`, [id, now.toISOString()]);
  }

  async markNoticeFailed(id: number, error: string, retryAt: Date | null, now: Date): Promise<void> {
    if (retryAt) await this.db.query(`UPDATE notices SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1`, [id, error.slice(0, 500), retryAt.toISOString()]);
    else await this.db.query(`UPDATE notices SET attempts = attempts + 1, last_error = $2, gave_up_at = $3 WHERE id = $1`, [id, error.slice(0, 500), now.toISOString()]);
  }

  async pendingNoticeCount(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM notices WHERE sent_at IS NULL AND gave_up_at IS NULL`);
    return Number(row?.n ?? 0);
  }

  // ---- home quarantine ------------------------------------------------------------------------------------

  async enrol(e: { recordId: number; channel: ChannelName; userId: string; commune: string; startsOn: string; endsOn: string; now: Date }): Promise<void> {
    await this.db.query(
      `INSERT INTO quarantine_enrolments (record_id, channel, user_id, commune, starts_on, ends_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (record_id) DO NOTHING`,
      [e.recordId, e.channel, e.userId, e.commune, e.startsOn, e.endsOn, e.now.toISOString()],
    );
  }

  async activeEnrolment(channel: ChannelName, userId: string, day: string): Promise<{ id: number; recordId: number; commune: string } | null> {
    const rows = await this.db.query<{ id: number; record_id: number; commune: string }>(
      `SELECT id, record_id, commune FROM quarantine_enrolments WHERE channel = $1 AND user_id = $2 AND starts_on <= $3 AND ends_on >= $3 ORDER BY id DESC LIMIT 1`,
      [channel, userId, day],
    );
    const r = rows[0];
    return r ? { id: Number(r.id), recordId: Number(r.record_id), commune: r.commune } : null;
  }

  async addDailyUpdate(u: { enrolmentId: number; day: string; temperature: number | null; symptoms: string[]; idempotencyKey: string; now: Date }): Promise<void> {
    await this.db.query(
      `INSERT INTO daily_updates (enrolment_id, day, temperature, symptoms, idempotency_key, created_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [u.enrolmentId, u.day, u.temperature, JSON.stringify(u.symptoms), u.idempotencyKey, u.now.toISOString()],
    );
  }

  async enrolmentsActiveOn(day: string): Promise<Array<{ id: number; recordId: number; channel: ChannelName; userId: string; commune: string }>> {
    const rows = await this.db.query<{ id: number; record_id: number; channel: ChannelName; user_id: string; commune: string }>(
      `SELECT id, record_id, channel, user_id, commune FROM quarantine_enrolments WHERE starts_on <= $1 AND ends_on >= $1 ORDER BY id`,
      [day],
    );
    return rows.map((r) => ({ id: Number(r.id), recordId: Number(r.record_id), channel: r.channel, userId: r.user_id, commune: r.commune }));
  }

  async hasDailyUpdate(enrolmentId: number, day: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM daily_updates WHERE enrolment_id = $1 AND day = $2 LIMIT 1`, [enrolmentId, day]);
    return rows.length > 0;
  }

  async hasJob(kind: string, subject: string, day: string): Promise<boolean> {
    return (await this.db.query(`SELECT 1 FROM daily_jobs WHERE kind = $1 AND subject = $2 AND day = $3`, [kind, subject, day])).length > 0;
  }

  /** True for exactly one caller across all processes, per (kind, subject, day). */
  async claimJob(kind: string, subject: string, day: string): Promise<boolean> {
    const rows = await this.db.query(`INSERT INTO daily_jobs (kind, subject, day) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING kind`, [kind, subject, day]);
    return rows.length > 0;
  }

  // ---- privacy --------------------------------------------------------------------------------------------

  /** Deletes everything stored about one person (their records cascade to notices, status history, updates). */
  async eraseUser(channel: ChannelName, userId: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM quarantine_enrolments WHERE channel = $1 AND user_id = $2`, [channel, userId]);
      await tx.query(`DELETE FROM notices WHERE channel = $1 AND recipient = $2`, [channel, userId]);
      const rows = await tx.query(`DELETE FROM records WHERE channel = $1 AND user_id = $2 RETURNING id`, [channel, userId]);
      return rows.length;
    });
  }

  /** Deletes records whose retention period is over; returns how many. */
  async purgeExpired(now: Date): Promise<number> {
    const rows = await this.db.query(`DELETE FROM records WHERE delete_after <= $1 RETURNING id`, [now.toISOString()]);
    return rows.length;
  }
}
