import type { ChannelName, Locale } from '../engine/types';
import { jsonColumn, type Database } from '../db/Database';

export type Topic = 'urgent' | 'news';
export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'unreachable' | 'outside_window' | 'template' | 'article' | 'boxed' | 'unknown' | 'cancelled';

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

/** Identifies one delivery row (a recipient of one broadcast on one channel). */
export function deliveryKey(d: { broadcastId: number; channel: ChannelName; userId: string }): string {
  return `${d.broadcastId}:${d.channel}:${d.userId}`;
}

export interface DeliveryOutcome {
  broadcastId: number;
  channel: ChannelName;
  userId: string;
  claim: string;
  status: 'sent' | 'pending' | 'failed' | 'unreachable' | 'outside_window' | 'template' | 'article' | 'boxed';
  error?: string;
  /** For `pending` (a retry): when. */
  retryAt?: Date;
}

export interface BroadcastReportRow {
  commune: string;
  channel: ChannelName;
  /** `resent`: of the rows counted under their status, those sent again after their sender died (urgent). */
  status: DeliveryStatus | 'resent';
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
    communes: jsonColumn(r.communes),
    status: r.status,
    createdBy: r.created_by,
    originChatId: r.origin_chat_id,
    total: Number(r.total),
    createdAt: new Date(r.created_at),
    finishedAt: r.finished_at ? new Date(r.finished_at) : null,
  };
}

/**
 * SQL: the claim of deliveries row `row` belongs to a sender whose heartbeat stopped before `now` (a parameter).
 * Claims without a sender id (tools, tests) only expire with their lease.
 */
const deadSender = (row: string, now: string) =>
  `(${row}.claimed_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM broadcast_senders s WHERE s.sender_id = ${row}.claimed_by AND s.alive_until >= ${now}))`;

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
      // Subscribers it cannot be pushed to (the web chat; those who blocked the bot or unfollowed the OA) get it in
      // their "new announcements" box, shown when they next write: counted as `boxed`.
      const boxed = await tx.query<{ n: number }>(
        `WITH ins AS (
           INSERT INTO deliveries (broadcast_id, channel, user_id, commune, locale, next_attempt_at, status)
           SELECT $1, channel, user_id, commune, locale, $2, 'boxed' FROM subscriptions
            WHERE ${b.topic === 'urgent' ? 'urgent' : 'news'}
              AND ((active AND NOT (channel = ANY($3::text[]))) OR (NOT active AND inactive_reason = 'blocked'))
              AND ($4::jsonb IS NULL OR commune IN (SELECT jsonb_array_elements_text($4::jsonb)))
           RETURNING channel, user_id),
         box AS (INSERT INTO announcement_box (channel, user_id, broadcast_id, added_at) SELECT channel, user_id, $1, $2 FROM ins RETURNING 1)
         SELECT count(*)::int AS n FROM box`,
        [id, b.now.toISOString(), b.channels, b.communes ? JSON.stringify(b.communes) : null],
      );
      const total = Number(inserted[0]!.n) + Number(boxed[0]!.n);
      const [updated] = await tx.query<BroadcastRow>(`UPDATE broadcasts SET total = $2 WHERE id = $1 RETURNING ${BROADCAST_COLUMNS}`, [id, total]);
      return toBroadcast(updated!);
    });
  }

  async findBroadcast(id: number): Promise<Broadcast | null> {
    // Ids are int4: a number from a button or a command outside that range names nothing (and must not reach SQL).
    if (!Number.isInteger(id) || id < 1 || id > 2_147_483_647) return null;
    const rows = await this.db.query<BroadcastRow>(`SELECT ${BROADCAST_COLUMNS} FROM broadcasts WHERE id = $1`, [id]);
    return rows[0] ? toBroadcast(rows[0]) : null;
  }

  /** Stops a running broadcast: what was not sent yet is marked cancelled. False when it was not running. */
  /** The latest broadcasts, newest first; `commune` keeps those addressed to exactly that one commune. */
  async recentBroadcasts(limit: number, commune: string | null = null): Promise<Broadcast[]> {
    const rows = await this.db.query<BroadcastRow>(
      `SELECT ${BROADCAST_COLUMNS} FROM broadcasts WHERE ($2::text IS NULL OR communes = jsonb_build_array($2::text)) ORDER BY id DESC LIMIT $1`,
      [limit, commune],
    );
    return rows.map(toBroadcast);
  }

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
   *
   * Ordered by `next_attempt_at` alone, the order of the `deliveries_due` index, so the scan stops after `limit`
   * rows: with a second sort key PostgreSQL read and sorted every pending row of the channel at each claim (19 ms for
   * 3,000 rows, the largest part of its CPU per message in `npm run bench:broadcast`).
   */
  async claimDeliveries(channel: ChannelName, now: Date, limit: number, leaseMs: number, senderId: string | null = null): Promise<ClaimedDelivery[]> {
    const claimedUntil = new Date(now.getTime() + leaseMs).toISOString();
    const rows = await this.db.query<{ broadcast_id: number; channel: ChannelName; user_id: string; locale: Locale; attempts: number; claimed_until: Date | string }>(
      `UPDATE deliveries d SET claimed_until = $3, claimed_by = $5, attempts = d.attempts + 1
         FROM (SELECT dd.broadcast_id, dd.channel, dd.user_id FROM deliveries dd JOIN broadcasts b ON b.id = dd.broadcast_id
                WHERE dd.channel = $1 AND dd.status = 'pending' AND dd.next_attempt_at <= $2
                  AND (dd.claimed_until IS NULL OR dd.claimed_until < $2 OR ${deadSender('dd', '$2')}) AND b.status = 'sending'
                ORDER BY dd.next_attempt_at
                LIMIT $4 FOR UPDATE OF dd SKIP LOCKED) c
        WHERE d.broadcast_id = c.broadcast_id AND d.channel = c.channel AND d.user_id = c.user_id
        RETURNING d.broadcast_id, d.channel, d.user_id, d.locale, d.attempts, d.claimed_until`,
      [channel, now.toISOString(), claimedUntil, limit, senderId],
    );
    return rows.map((r) => ({ broadcastId: Number(r.broadcast_id), channel: r.channel, userId: r.user_id, locale: r.locale, attempts: Number(r.attempts), claim: new Date(r.claimed_until).toISOString() }));
  }

  /**
   * Marks one claimed delivery `sending`, just before the platform is called; false when the claim is no longer ours
   * (it expired and another process took the row), and then it must not be sent. Whatever happens next, a row in
   * `sending` of a general announcement is never sent again (see `expireInFlight`): nobody gets it twice.
   */
  async markSending(d: ClaimedDelivery): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE deliveries SET status = 'sending' WHERE broadcast_id = $1 AND channel = $2 AND user_id = $3 AND status = 'pending' AND claimed_until = $4 RETURNING 1`,
      [d.broadcastId, d.channel, d.userId, d.claim],
    );
    return rows.length === 1;
  }

  /**
   * `markSending` for several claimed deliveries in one statement; returns the keys (`deliveryKey`) of the rows that
   * were still ours and are now `sending`. The others must not be sent.
   */
  async markSendingAll(ds: ClaimedDelivery[]): Promise<Set<string>> {
    if (ds.length === 0) return new Set();
    const rows = await this.db.query<{ broadcast_id: number; channel: ChannelName; user_id: string }>(
      `UPDATE deliveries d SET status = 'sending'
         FROM jsonb_to_recordset($1::jsonb) AS v(b int, c text, u text, k text)
        WHERE d.broadcast_id = v.b AND d.channel = v.c AND d.user_id = v.u AND d.status = 'pending' AND d.claimed_until = v.k::timestamptz
        RETURNING d.broadcast_id, d.channel, d.user_id`,
      [JSON.stringify(ds.map((d) => ({ b: d.broadcastId, c: d.channel, u: d.userId, k: d.claim })))],
    );
    return new Set(rows.map((r) => deliveryKey({ broadcastId: Number(r.broadcast_id), channel: r.channel, userId: r.user_id })));
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
   * Deliveries still `sending` after their claim expired, or whose sender's heartbeat stopped, were in flight when a
   * process died: the message may or may not have left. For a general announcement they become `unknown` and are
   * not sent again (never twice); for an urgent one they go back to `pending` and are sent again (at least once: a
   * duplicate "lockdown from 18:00" is an annoyance, a missing one a harm), up to `maxResends` times.
   */
  async expireInFlight(now: Date, maxResends = 3): Promise<{ unknown: number; resent: number }> {
    const rows = await this.db.query<{ status: string }>(
      `UPDATE deliveries d
          SET status = CASE WHEN b.topic = 'urgent' AND d.lost_in_flight < $2 THEN 'pending' ELSE 'unknown' END,
              last_error = 'the sending process stopped while this message was in flight',
              lost_in_flight = d.lost_in_flight + 1, claimed_until = NULL, claimed_by = NULL, next_attempt_at = $1
         FROM broadcasts b
        WHERE b.id = d.broadcast_id AND d.status = 'sending' AND (d.claimed_until < $1 OR ${deadSender('d', '$1')})
        RETURNING d.status`,
      [now.toISOString(), maxResends],
    );
    const resent = rows.filter((r) => r.status === 'pending').length;
    return { unknown: rows.length - resent, resent };
  }

  // ---- sender heartbeats ----------------------------------------------------------------------------------

  /** A sender is alive until `aliveUntil`; its claims are not taken over before that. */
  async heartbeat(senderId: string, aliveUntil: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO broadcast_senders (sender_id, alive_until) VALUES ($1, $2) ON CONFLICT (sender_id) DO UPDATE SET alive_until = $2`,
      [senderId, aliveUntil.toISOString()],
    );
  }

  /**
   * A sender stops cleanly: the rows it claimed but did not start are free at once, and its heartbeat is gone. Also
   * forgets senders dead for a minute (their rows were taken over long ago).
   */
  async retireSender(senderId: string, now: Date): Promise<void> {
    await this.db.query(`UPDATE deliveries SET claimed_until = NULL, claimed_by = NULL WHERE claimed_by = $1 AND status = 'pending'`, [senderId]);
    await this.db.query(`DELETE FROM broadcast_senders WHERE sender_id = $1 OR alive_until < $2`, [senderId, new Date(now.getTime() - 60_000).toISOString()]);
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
    const rows = await this.db.query<{ commune: string; channel: ChannelName; status: DeliveryStatus | 'resent'; n: number }>(
      `SELECT commune, channel, status, count(*)::int AS n FROM deliveries WHERE broadcast_id = $1 GROUP BY commune, channel, status
       UNION ALL
       SELECT commune, channel, 'resent', count(*)::int FROM deliveries WHERE broadcast_id = $1 AND lost_in_flight > 0 AND status NOT IN ('pending', 'sending', 'unknown')
        GROUP BY commune, channel
       ORDER BY 1, 2, 3`,
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
}
