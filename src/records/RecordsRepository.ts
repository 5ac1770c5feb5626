import type { ChannelName, JsonValue, Reply } from '../engine/types';
import { jsonColumn, type Database, type Queryable } from '../db/Database';

export type RecordKind = 'declaration' | 'symptoms' | 'entrant' | 'callback';
export type RecordStatus = 'new' | 'acknowledged' | 'resolved';
export type Urgency = 'urgent' | 'notice' | 'info';

export const REFERENCE_PREFIX: Record<RecordKind, string> = { declaration: 'KB', symptoms: 'TC', entrant: 'PA', callback: 'GL' };

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
  /** A redaction: edit `messageIds` to this text (the citizen erased their data). */
  redactText: string | null;
  messageIds: string[];
  /** Since when the recipient could not be reached (the bot was removed from the group). */
  waitingSince: Date | null;
  /** A digest of the notices held back for this recipient. */
  digest: boolean;
  /** The record's commune, reference and officials' group, when the notice belongs to a record. */
  commune: string | null;
  reference: string | null;
  recordChatId: string | null;
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

interface NoticeRow {
  id: number;
  record_id: number | null;
  channel: ChannelName;
  recipient: string;
  replies: Reply[] | string;
  attempts: number;
  redact_text: string | null;
  sent_message_ids: string[] | string | null;
  waiting_since: Date | string | null;
  digest: boolean;
  commune: string | null;
  reference: string | null;
  notice_chat_id: string | null;
}

function toPendingNotice(r: NoticeRow): PendingNotice {
  return {
    id: Number(r.id),
    recordId: r.record_id === null ? null : Number(r.record_id),
    channel: r.channel,
    recipient: r.recipient,
    replies: jsonColumn(r.replies),
    attempts: Number(r.attempts),
    redactText: r.redact_text,
    messageIds: r.sent_message_ids === null ? [] : jsonColumn(r.sent_message_ids),
    waitingSince: r.waiting_since === null ? null : new Date(r.waiting_since),
    digest: r.digest === true,
    commune: r.commune,
    reference: r.reference,
    recordChatId: r.notice_chat_id,
  };
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
    data: jsonColumn(r.data),
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

  /**
   * Queues a notice. Photos go in notices of their own, after the text and its buttons: a photo the platform refuses
   * then never holds back (or repeats) the text.
   */
  async enqueue(q: Queryable, n: { recordId: number | null; channel: ChannelName; recipient: string; replies: Reply[]; now: Date }): Promise<void> {
    const texts = n.replies.filter((r) => r.kind !== 'image');
    const parts = texts.length > 0 && texts.length < n.replies.length ? [texts, ...n.replies.filter((r) => r.kind === 'image').map((r) => [r])] : [n.replies];
    for (const replies of parts) {
      await q.query(`INSERT INTO notices (record_id, channel, recipient, replies, next_attempt_at, created_at) VALUES ($1, $2, $3, $4::jsonb, $5, $5)`, [
        n.recordId,
        n.channel,
        n.recipient,
        JSON.stringify(replies),
        n.now.toISOString(),
      ]);
    }
  }

  async enqueueNotice(n: { recordId: number | null; channel: ChannelName; recipient: string; replies: Reply[]; now: Date }): Promise<void> {
    await this.enqueue(this.db, n);
  }

  async findRecord(id: number): Promise<StoredRecord | null> {
    const rows = await this.db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** A person's records; `userIds` are their platform id and the keyed hash their anonymous reports are kept under. */
  async recordsOfUser(channel: ChannelName, userIds: string[], limit: number): Promise<StoredRecord[]> {
    const rows = await this.db.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM records WHERE channel = $1 AND user_id = ANY($2::text[]) ORDER BY created_at DESC, id DESC LIMIT $3`,
      [channel, userIds, limit],
    );
    return rows.map(toRecord);
  }

  /** Records of one kind a person made since `since` (their platform id and their anonymous hash together). */
  async countRecordsSince(channel: ChannelName, userIds: string[], kind: RecordKind, since: Date): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM records WHERE channel = $1 AND user_id = ANY($2::text[]) AND kind = $3 AND created_at > $4`,
      [channel, userIds, kind, since.toISOString()],
    );
    return Number(row?.n ?? 0);
  }

  async countDailyUpdatesSince(enrolmentId: number, since: Date): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM daily_updates WHERE enrolment_id = $1 AND created_at > $2`, [enrolmentId, since.toISOString()]);
    return Number(row?.n ?? 0);
  }

  /**
   * Changes a record's status on behalf of an official. Only the group the notice went to may do it (or, from the
   * dashboard, an official whose scope `authorize` accepts); each change is stored with who made it and when.
   */
  async changeStatus(
    id: number,
    status: Exclude<RecordStatus, 'new'>,
    by: { officialId: string; officialName: string; chatId: string },
    now: Date,
    authorize: (record: StoredRecord) => boolean = (record) => record.noticeChatId === by.chatId,
  ): Promise<{ ok: true; record: StoredRecord; changed: boolean } | { ok: false; reason: 'not-found' | 'wrong-chat' }> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1 FOR UPDATE`, [id]);
      const row = rows[0];
      if (!row) return { ok: false as const, reason: 'not-found' as const };
      if (!authorize(toRecord(row))) return { ok: false as const, reason: 'wrong-chat' as const };
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
      const rows = await tx.query<NoticeRow>(
        `SELECT n.id, n.record_id, n.channel, n.recipient, n.replies, n.attempts, n.redact_text, n.sent_message_ids, n.waiting_since, n.digest,
                r.commune, r.reference, r.notice_chat_id
           FROM notices n LEFT JOIN records r ON r.id = n.record_id
          WHERE n.sent_at IS NULL AND n.gave_up_at IS NULL AND n.held_at IS NULL AND n.next_attempt_at <= $1
          ORDER BY n.next_attempt_at, n.id LIMIT $2 FOR UPDATE OF n SKIP LOCKED`,
        [now.toISOString(), limit],
      );
      if (rows.length === 0) return [];
      await tx.query(`UPDATE notices SET next_attempt_at = $2 WHERE id = ANY($1::int[])`, [rows.map((r) => Number(r.id)), new Date(now.getTime() + leaseMs).toISOString()]);
      return rows.map(toPendingNotice);
    });
  }

  // ---- notices that are never silently given up --------------------------------------------------------------

  /** Notices of this recipient sent since `since` for records of `commune` (the per-minute ceiling). */
  async countNoticesSentSince(channel: ChannelName, recipient: string, commune: string, since: Date): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notices n JOIN records r ON r.id = n.record_id
        WHERE n.channel = $1 AND n.recipient = $2 AND r.commune = $3 AND n.sent_at > $4 AND n.held_at IS NULL`,
      [channel, recipient, commune, since.toISOString()],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * Holds back a record's unsent notices to this recipient (its photo too) for the digest, and makes sure one digest
   * of this recipient is due at `digestAt`.
   */
  async holdForDigest(notice: { recordId: number; channel: ChannelName; recipient: string }, now: Date, digestAt: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE notices SET held_at = $4 WHERE record_id = $1 AND channel = $2 AND recipient = $3 AND sent_at IS NULL AND gave_up_at IS NULL`, [
        notice.recordId,
        notice.channel,
        notice.recipient,
        now.toISOString(),
      ]);
      const pending = await tx.query(`SELECT 1 FROM notices WHERE digest AND channel = $1 AND recipient = $2 AND sent_at IS NULL AND gave_up_at IS NULL`, [notice.channel, notice.recipient]);
      if (pending.length === 0) {
        await tx.query(`INSERT INTO notices (record_id, channel, recipient, replies, digest, next_attempt_at, created_at) VALUES (NULL, $1, $2, '[]'::jsonb, true, $3, $4)`, [
          notice.channel,
          notice.recipient,
          digestAt.toISOString(),
          now.toISOString(),
        ]);
      }
    });
  }

  /** The held-back notices of a recipient, by commune, with their references (what a digest lists). */
  async heldNotices(channel: ChannelName, recipient: string): Promise<Array<{ id: number; recordId: number; commune: string; reference: string | null }>> {
    const rows = await this.db.query<{ id: number; record_id: number; commune: string; reference: string | null }>(
      `SELECT n.id, n.record_id, r.commune, r.reference FROM notices n JOIN records r ON r.id = n.record_id
        WHERE n.channel = $1 AND n.recipient = $2 AND n.held_at IS NOT NULL AND n.sent_at IS NULL ORDER BY n.id`,
      [channel, recipient],
    );
    return rows.map((r) => ({ id: Number(r.id), recordId: Number(r.record_id), commune: r.commune, reference: r.reference }));
  }

  /** Marks held-back notices as delivered through a digest. */
  async markDigested(ids: number[], now: Date): Promise<void> {
    if (ids.length) await this.db.query(`UPDATE notices SET sent_at = $2 WHERE id = ANY($1::int[])`, [ids, now.toISOString()]);
  }

  /** The recipient cannot be reached: remember since when, and look again at `retryAt` (no attempt is counted). */
  async markNoticeWaiting(id: number, since: Date, retryAt: Date): Promise<void> {
    await this.db.query(`UPDATE notices SET waiting_since = COALESCE(waiting_since, $2::timestamptz), next_attempt_at = $3 WHERE id = $1`, [id, since.toISOString(), retryAt.toISOString()]);
  }

  /** The bot is back in a chat: its waiting notices are due now. */
  async wakeWaitingNotices(channel: ChannelName, recipient: string, now: Date): Promise<number> {
    const rows = await this.db.query(`UPDATE notices SET next_attempt_at = $3 WHERE channel = $1 AND recipient = $2 AND waiting_since IS NOT NULL AND sent_at IS NULL AND gave_up_at IS NULL RETURNING id`, [
      channel,
      recipient,
      now.toISOString(),
    ]);
    return rows.length;
  }

  /**
   * Sends a notice to another group instead (the district's, when a commune's group lost the bot): its record's
   * buttons then work from that group, and the replies carry a line saying why.
   */
  async rerouteNotice(id: number, recordId: number | null, to: string, replies: Reply[], now: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE notices SET recipient = $2, replies = $3::jsonb, waiting_since = NULL, next_attempt_at = $4 WHERE id = $1`, [id, to, JSON.stringify(replies), now.toISOString()]);
      if (recordId !== null) await tx.query(`UPDATE records SET notice_chat_id = $2 WHERE id = $1`, [recordId, to]);
    });
  }

  /** Replaces a notice's replies (e.g. without the photo the platform refused) and makes it due now. */
  async replaceNoticeReplies(id: number, replies: Reply[], now: Date): Promise<void> {
    await this.db.query(`UPDATE notices SET replies = $2::jsonb, next_attempt_at = $3 WHERE id = $1`, [id, JSON.stringify(replies), now.toISOString()]);
  }

  async deleteNotice(id: number): Promise<void> {
    await this.db.query(`DELETE FROM notices WHERE id = $1`, [id]);
  }

  /** Records whose officials' notice has been sent (directly or in a digest). */
  async deliveredRecordIds(recordIds: number[]): Promise<Set<number>> {
    if (recordIds.length === 0) return new Set();
    const rows = await this.db.query<{ record_id: number }>(
      `SELECT DISTINCT n.record_id FROM notices n JOIN records r ON r.id = n.record_id
        WHERE n.record_id = ANY($1::int[]) AND n.recipient = r.notice_chat_id AND n.sent_at IS NOT NULL`,
      [recordIds],
    );
    return new Set(rows.map((r) => Number(r.record_id)));
  }

  async markNoticeSent(id: number, now: Date, messageIds: string[] = []): Promise<void> {
    await this.db.query(`UPDATE notices SET sent_at = $2, attempts = attempts + 1, last_error = NULL, waiting_since = NULL, sent_message_ids = $3::jsonb WHERE id = $1`, [
      id,
      now.toISOString(),
      messageIds.length ? JSON.stringify(messageIds) : null,
    ]);
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

  /**
   * Deletes everything stored about one person: their records (status history, follow-ups and unsent notices
   * cascade), their enrolments, the messages queued for them. Notices already posted in officials' groups become
   * redactions: the row keeps only the group, the message ids and `redactText`, and the dispatcher edits the posted
   * messages to that text. `userIds`: the platform id and the keyed hash of the person's anonymous reports.
   */
  async eraseUser(channel: ChannelName, userIds: string[], redactText: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const ids = (await tx.query<{ id: number }>(`SELECT id FROM records WHERE channel = $1 AND user_id = ANY($2::text[])`, [channel, userIds])).map((r) => Number(r.id));
      if (ids.length > 0) {
        await tx.query(
          `UPDATE notices SET record_id = NULL, replies = '[]'::jsonb, redact_text = $3, sent_at = NULL, gave_up_at = NULL, attempts = 0, last_error = NULL,
                  held_at = NULL, waiting_since = NULL, next_attempt_at = created_at
            WHERE record_id = ANY($1::int[]) AND sent_message_ids IS NOT NULL AND NOT (channel = $2 AND recipient = ANY($4::text[]))`,
          [ids, channel, redactText, userIds],
        );
      }
      await tx.query(`DELETE FROM quarantine_enrolments WHERE channel = $1 AND user_id = ANY($2::text[])`, [channel, userIds]);
      await tx.query(`DELETE FROM notices WHERE channel = $1 AND recipient = ANY($2::text[])`, [channel, userIds]);
      const rows = await tx.query(`DELETE FROM records WHERE id = ANY($1::int[]) RETURNING id`, [ids]);
      return rows.length;
    });
  }

  /** Deletes records whose retention period is over; returns how many. */
  async purgeExpired(now: Date): Promise<number> {
    const rows = await this.db.query(`DELETE FROM records WHERE delete_after <= $1 RETURNING id`, [now.toISOString()]);
    return rows.length;
  }
}
