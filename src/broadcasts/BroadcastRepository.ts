import type { ChannelName, Locale } from '../engine/types';
import type { Database } from '../db/Database';

export type Topic = 'urgent' | 'news';
export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'unreachable' | 'outside_window' | 'unknown' | 'cancelled';

export interface Subscription {
  channel: ChannelName;
  userId: string;
  commune: string;
  locale: Locale;
  urgent: boolean;
  news: boolean;
  active: boolean;
}

export interface Broadcast {
  id: number;
  topic: Topic;
  textVi: string;
  textEn: string | null;
  communes: string[] | null;
  status: 'sending' | 'done' | 'cancelled';
  createdBy: string;
  originChatId: string | null;
  total: number;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface ClaimedDelivery {
  broadcastId: number;
  channel: ChannelName;
  userId: string;
  locale: Locale;
  attempts: number;
  /** The claim's expiry, which identifies the claim: only its holder may mark or record the row. */
  claim: string;
}

export interface DeliveryOutcome {
  broadcastId: number;
  channel: ChannelName;
  userId: string;
  claim: string;
  status: 'sent' | 'pending' | 'failed' | 'unreachable' | 'outside_window';
  error?: string;
  /** For `pending` (a retry): when. */
  retryAt?: Date;
}

export interface BroadcastReportRow {
  commune: string;
  channel: ChannelName;
  status: DeliveryStatus;
  n: number;
}

interface BroadcastRow {
  id: number;
  topic: Topic;
  text_vi: string;
  text_en: string | null;
  communes: string[] | string | null;
  status: Broadcast['status'];
  created_by: string;
  origin_chat_id: string | null;
  total: number;
  created_at: Date | string;
  finished_at: Date | string | null;
}

function toBroadcast(r: BroadcastRow): Broadcast {
  return {
    id: Number(r.id),
    topic: r.topic,
    textVi: r.text_vi,
    textEn: r.text_en,
    communes: typeof r.communes === 'string' ? (JSON.parse(r.communes) as string[] | null) : r.communes,
    status: r.status,
    createdBy: r.created_by,
    originChatId: r.origin_chat_id,
    total: Number(r.total),
    createdAt: new Date(r.created_at),
    finishedAt: r.finished_at ? new Date(r.finished_at) : null,
  };
}

const BROADCAST_COLUMNS = 'id, topic, text_vi, text_en, communes, status, created_by, origin_chat_id, total, created_at, finished_at';

/** Subscriptions, broadcasts and their deliveries: SQL that runs the same on PostgreSQL and PGlite. */
export class BroadcastRepository {
  constructor(readonly db: Database) {}

  // ---- subscriptions --------------------------------------------------------------------------------------

  async subscribe(s: Omit<Subscription, 'active'>, now: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO subscriptions (channel, user_id, commune, locale, urgent, news, active, inactive_reason, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, true, NULL, $7)
       ON CONFLICT (channel, user_id) DO UPDATE SET commune = $3, locale = $4, urgent = $5, news = $6, active = true, inactive_reason = NULL, updated_at = $7`,
      [s.channel, s.userId, s.commune, s.locale, s.urgent, s.news, now.toISOString()],
    );
  }

  async unsubscribe(channel: ChannelName, userId: string, reason: 'user' | 'blocked', now: Date): Promise<void> {
    await this.db.query(`UPDATE subscriptions SET active = false, inactive_reason = $3, updated_at = $4 WHERE channel = $1 AND user_id = $2`, [
      channel,
      userId,
      reason,
      now.toISOString(),
    ]);
  }

  /** Keeps the subscription's commune and language in step with the person's profile. */
  async updateProfile(channel: ChannelName, userId: string, commune: string, locale: Locale, now: Date): Promise<void> {
    await this.db.query(`UPDATE subscriptions SET commune = $3, locale = $4, updated_at = $5 WHERE channel = $1 AND user_id = $2`, [channel, userId, commune, locale, now.toISOString()]);
  }

  async subscription(channel: ChannelName, userId: string): Promise<Subscription | null> {
    const rows = await this.db.query<{ channel: ChannelName; user_id: string; commune: string; locale: Locale; urgent: boolean; news: boolean; active: boolean }>(
      `SELECT channel, user_id, commune, locale, urgent, news, active FROM subscriptions WHERE channel = $1 AND user_id = $2`,
      [channel, userId],
    );
    const r = rows[0];
    return r ? { channel: r.channel, userId: r.user_id, commune: r.commune, locale: r.locale, urgent: r.urgent, news: r.news, active: r.active } : null;
  }

  async deleteSubscription(channel: ChannelName, userId: string): Promise<void> {
    await this.db.query(`DELETE FROM subscriptions WHERE channel = $1 AND user_id = $2`, [channel, userId]);
  }

  /** Recipients a broadcast would reach, per channel (for the preview). */
  async countRecipients(topic: Topic, communes: string[] | null, channels: ChannelName[]): Promise<Record<string, number>> {
    const rows = await this.db.query<{ channel: string; n: number }>(
      `SELECT channel, count(*)::int AS n FROM subscriptions
        WHERE active AND ${topic === 'urgent' ? 'urgent' : 'news'} AND channel = ANY($1::text[])
          AND ($2::jsonb IS NULL OR commune IN (SELECT jsonb_array_elements_text($2::jsonb)))
        GROUP BY channel`,
      [channels, communes ? JSON.stringify(communes) : null],
    );
    return Object.fromEntries(rows.map((r) => [r.channel, Number(r.n)]));
  }

  // ---- broadcasts -----------------------------------------------------------------------------------------

  /**
   * Creates the broadcast and one delivery row per current recipient, in one statement inside one transaction:
   * the recipient list never passes through this process's memory, however long it is.
   */
  async createBroadcast(b: { topic: Topic; textVi: string; textEn: string | null; communes: string[] | null; createdBy: string; originChatId: string | null; channels: ChannelName[]; now: Date }): Promise<Broadcast> {
    const created = await this.createBroadcastRows(b);
    // Tens of thousands of new rows at once: fresh planner statistics keep the senders' claim query on its index
    // (with stale ones, PostgreSQL scanned the table for every claim until autovacuum caught up).
    await this.db.query('ANALYZE deliveries');
    return created;
  }

  private async createBroadcastRows(b: { topic: Topic; textVi: string; textEn: string | null; communes: string[] | null; createdBy: string; originChatId: string | null; channels: ChannelName[]; now: Date }): Promise<Broadcast> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<BroadcastRow>(
        `INSERT INTO broadcasts (topic, text_vi, text_en, communes, status, created_by, origin_chat_id, total, created_at)
         VALUES ($1, $2, $3, $4::jsonb, 'sending', $5, $6, 0, $7) RETURNING ${BROADCAST_COLUMNS}`,
        [b.topic, b.textVi, b.textEn, b.communes ? JSON.stringify(b.communes) : null, b.createdBy, b.originChatId, b.now.toISOString()],
      );
      const id = Number(row!.id);
      const inserted = await tx.query<{ n: number }>(
        `WITH ins AS (
           INSERT INTO deliveries (broadcast_id, channel, user_id, commune, locale, next_attempt_at)
           SELECT $1, channel, user_id, commune, locale, $2 FROM subscriptions
            WHERE active AND ${b.topic === 'urgent' ? 'urgent' : 'news'} AND channel = ANY($3::text[])
              AND ($4::jsonb IS NULL OR commune IN (SELECT jsonb_array_elements_text($4::jsonb)))
           RETURNING 1)
         SELECT count(*)::int AS n FROM ins`,
        [id, b.now.toISOString(), b.channels, b.communes ? JSON.stringify(b.communes) : null],
      );
      const total = Number(inserted[0]!.n);
      const [updated] = await tx.query<BroadcastRow>(`UPDATE broadcasts SET total = $2 WHERE id = $1 RETURNING ${BROADCAST_COLUMNS}`, [id, total]);
      return toBroadcast(updated!);
    });
  }

  async findBroadcast(id: number): Promise<Broadcast | null> {
    const rows = await this.db.query<BroadcastRow>(`SELECT ${BROADCAST_COLUMNS} FROM broadcasts WHERE id = $1`, [id]);
    return rows[0] ? toBroadcast(rows[0]) : null;
  }

  /** Stops a running broadcast: what was not sent yet is marked cancelled. False when it was not running. */
  async cancelBroadcast(id: number, now: Date): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(`UPDATE broadcasts SET status = 'cancelled', finished_at = $2 WHERE id = $1 AND status = 'sending' RETURNING id`, [id, now.toISOString()]);
      if (rows.length === 0) return false;
      await tx.query(`UPDATE deliveries SET status = 'cancelled' WHERE broadcast_id = $1 AND status = 'pending'`, [id]);
      return true;
    });
  }

  /**
   * Claims up to `limit` due deliveries of one channel for `leaseMs` (FOR UPDATE SKIP LOCKED, so any number of
   * processes claim side by side). A claimed row stays `pending` until the moment it is sent (`markSending`), so the
   * rows of a process that dies before sending them go out after the lease, sent by another process.
   */
  async claimDeliveries(channel: ChannelName, now: Date, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const claimedUntil = new Date(now.getTime() + leaseMs).toISOString();
    const rows = await this.db.query<{ broadcast_id: number; channel: ChannelName; user_id: string; locale: Locale; attempts: number; claimed_until: Date | string }>(
      `UPDATE deliveries d SET claimed_until = $3, attempts = d.attempts + 1
         FROM (SELECT dd.broadcast_id, dd.channel, dd.user_id FROM deliveries dd JOIN broadcasts b ON b.id = dd.broadcast_id
                WHERE dd.channel = $1 AND dd.status = 'pending' AND dd.next_attempt_at <= $2
                  AND (dd.claimed_until IS NULL OR dd.claimed_until < $2) AND b.status = 'sending'
                ORDER BY dd.next_attempt_at, dd.broadcast_id
                LIMIT $4 FOR UPDATE OF dd SKIP LOCKED) c
        WHERE d.broadcast_id = c.broadcast_id AND d.channel = c.channel AND d.user_id = c.user_id
        RETURNING d.broadcast_id, d.channel, d.user_id, d.locale, d.attempts, d.claimed_until`,
      [channel, now.toISOString(), claimedUntil, limit],
    );
    return rows.map((r) => ({ broadcastId: Number(r.broadcast_id), channel: r.channel, userId: r.user_id, locale: r.locale, attempts: Number(r.attempts), claim: new Date(r.claimed_until).toISOString() }));
  }

  /**
   * Marks one claimed delivery `sending`, just before the platform is called; false when the claim is no longer ours
   * (it expired and another process took the row), and then it must not be sent. Whatever happens next, a row in
   * `sending` is never sent again (see `expireInFlight`): nobody gets a broadcast twice.
   */
  async markSending(d: ClaimedDelivery): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE deliveries SET status = 'sending' WHERE broadcast_id = $1 AND channel = $2 AND user_id = $3 AND status = 'pending' AND claimed_until = $4 RETURNING 1`,
      [d.broadcastId, d.channel, d.userId, d.claim],
    );
    return rows.length === 1;
  }

  /** Records what happened to claimed deliveries, many at once (only rows still under this claim). */
  async recordOutcomes(outcomes: DeliveryOutcome[], now: Date): Promise<void> {
    if (outcomes.length === 0) return;
    const payload = outcomes.map((o) => ({
      b: o.broadcastId,
      c: o.channel,
      u: o.userId,
      s: o.status,
      e: o.error?.slice(0, 300) ?? null,
      r: (o.retryAt ?? now).toISOString(),
      k: o.claim,
    }));
    await this.db.query(
      `UPDATE deliveries d SET status = v.s, last_error = v.e, next_attempt_at = v.r::timestamptz, claimed_until = NULL,
              sent_at = CASE WHEN v.s = 'sent' THEN $2::timestamptz ELSE d.sent_at END
         FROM jsonb_to_recordset($1::jsonb) AS v(b int, c text, u text, s text, e text, r text, k text)
        WHERE d.broadcast_id = v.b AND d.channel = v.c AND d.user_id = v.u AND d.status IN ('pending', 'sending') AND d.claimed_until = v.k::timestamptz`,
      [JSON.stringify(payload), now.toISOString()],
    );
  }

  /**
   * Deliveries still `sending` after their claim expired were in flight when a process died: the message may or may
   * not have left. They become `unknown` and are not sent again: never twice.
   */
  async expireInFlight(now: Date): Promise<number> {
    const rows = await this.db.query(
      `UPDATE deliveries SET status = 'unknown', last_error = 'the sending process stopped while this message was in flight', claimed_until = NULL
        WHERE status = 'sending' AND claimed_until < $1 RETURNING 1`,
      [now.toISOString()],
    );
    return rows.length;
  }

  /** Marks finished broadcasts done; returns those this caller finished (exactly one caller gets each). */
  async finishCompleted(now: Date): Promise<Broadcast[]> {
    const rows = await this.db.query<BroadcastRow>(
      `UPDATE broadcasts b SET status = 'done', finished_at = $1
        WHERE b.status = 'sending' AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.broadcast_id = b.id AND d.status IN ('pending', 'sending'))
        RETURNING ${BROADCAST_COLUMNS}`,
      [now.toISOString()],
    );
    return rows.map(toBroadcast);
  }

  /** Running broadcasts due for a progress message (one caller gets each, at most every `everyMs`). */
  async takeProgressTurn(now: Date, everyMs: number): Promise<Broadcast[]> {
    const rows = await this.db.query<BroadcastRow>(
      `UPDATE broadcasts SET last_progress_at = $1
        WHERE status = 'sending' AND origin_chat_id IS NOT NULL AND COALESCE(last_progress_at, created_at) <= $2
        RETURNING ${BROADCAST_COLUMNS}`,
      [now.toISOString(), new Date(now.getTime() - everyMs).toISOString()],
    );
    return rows.map(toBroadcast);
  }

  async report(id: number): Promise<BroadcastReportRow[]> {
    const rows = await this.db.query<{ commune: string; channel: ChannelName; status: DeliveryStatus; n: number }>(
      `SELECT commune, channel, status, count(*)::int AS n FROM deliveries WHERE broadcast_id = $1 GROUP BY commune, channel, status ORDER BY commune, channel, status`,
      [id],
    );
    return rows.map((r) => ({ ...r, n: Number(r.n) }));
  }

  async failureReasons(id: number, limit = 5): Promise<Array<{ reason: string; n: number }>> {
    const rows = await this.db.query<{ reason: string; n: number }>(
      `SELECT last_error AS reason, count(*)::int AS n FROM deliveries
        WHERE broadcast_id = $1 AND status IN ('failed', 'unknown') AND last_error IS NOT NULL
        GROUP BY last_error ORDER BY n DESC LIMIT $2`,
      [id, limit],
    );
    return rows.map((r) => ({ reason: r.reason, n: Number(r.n) }));
  }

  // ---- drafts of officials' groups ------------------------------------------------------------------------

  async draft(chatId: string): Promise<{ step: string; data: Record<string, unknown> } | null> {
    const rows = await this.db.query<{ step: string; data: Record<string, unknown> | string }>(`SELECT step, data FROM broadcast_drafts WHERE chat_id = $1`, [chatId]);
    const r = rows[0];
    return r ? { step: r.step, data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data } : null;
  }

  async saveDraft(chatId: string, step: string, data: Record<string, unknown>, now: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO broadcast_drafts (chat_id, step, data, updated_at) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (chat_id) DO UPDATE SET step = $2, data = $3::jsonb, updated_at = $4`,
      [chatId, step, JSON.stringify(data), now.toISOString()],
    );
  }

  async deleteDraft(chatId: string): Promise<void> {
    await this.db.query(`DELETE FROM broadcast_drafts WHERE chat_id = $1`, [chatId]);
  }
}
