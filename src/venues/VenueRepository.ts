import type { ChannelName, JsonValue } from '../engine/types';
import type { Database, Queryable } from '../db/Database';

export const VENUE_KINDS = ['office', 'market', 'shop', 'eatery', 'lodging', 'school', 'clinic', 'vehicle', 'other'] as const;
export type VenueKind = (typeof VENUE_KINDS)[number];
export type VenueStatus = 'pending' | 'confirmed' | 'rejected';
export const VENUE_REFERENCE_PREFIX = 'DD';

export interface Venue {
  id: number;
  reference: string;
  code: string;
  name: string;
  kind: VenueKind;
  plate: string | null;
  commune: string;
  address: string;
  ownerName: string | null;
  ownerPhone: string | null;
  ownerChannel: ChannelName | null;
  ownerUserId: string | null;
  status: VenueStatus;
  source: 'owner' | 'field';
  nationalQrAt: Date | null;
  nationalQrPhoto: string | null;
  checkedOnSiteAt: Date | null;
  noticeChatId: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  createdAt: Date;
}

export interface NewVenue {
  code: string;
  name: string;
  kind: VenueKind;
  plate: string | null;
  commune: string;
  address: string;
  placeKey: string;
  ownerName: string | null;
  ownerPhone: string | null;
  ownerChannel: ChannelName | null;
  ownerUserId: string | null;
  status: VenueStatus;
  source: 'owner' | 'field';
  noticeChatId: string | null;
  decidedBy: string | null;
  idempotencyKey: string;
  /** The local date as YYMMDD, for the reference. */
  localDay: string;
  now: Date;
}

export interface Checkin {
  id: number;
  venueId: number;
  commune: string;
  channel: ChannelName | null;
  userId: string | null;
  name: string;
  phone: string;
  assistedBy: string | null;
  checkedInAt: Date;
  checkedOutAt: Date | null;
}

interface VenueRow {
  id: number;
  reference: string;
  code: string;
  name: string;
  kind: VenueKind;
  plate: string | null;
  commune: string;
  address: string;
  owner_name: string | null;
  owner_phone: string | null;
  owner_channel: ChannelName | null;
  owner_user_id: string | null;
  status: VenueStatus;
  source: 'owner' | 'field';
  national_qr_at: Date | string | null;
  national_qr_photo: string | null;
  checked_on_site_at: Date | string | null;
  notice_chat_id: string | null;
  decided_by: string | null;
  decided_at: Date | string | null;
  created_at: Date | string;
}

interface CheckinRow {
  id: number | string;
  venue_id: number;
  commune: string;
  channel: ChannelName | null;
  user_id: string | null;
  name: string;
  phone: string;
  assisted_by: string | null;
  checked_in_at: Date | string;
  checked_out_at: Date | string | null;
}

const VENUE_COLUMNS =
  'id, reference, code, name, kind, plate, commune, address, owner_name, owner_phone, owner_channel, owner_user_id, status, source, national_qr_at, national_qr_photo, checked_on_site_at, notice_chat_id, decided_by, decided_at, created_at';
const CHECKIN_COLUMNS = 'id, venue_id, commune, channel, user_id, name, phone, assisted_by, checked_in_at, checked_out_at';

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

function toVenue(r: VenueRow): Venue {
  return {
    id: Number(r.id),
    reference: r.reference,
    code: r.code,
    name: r.name,
    kind: r.kind,
    plate: r.plate,
    commune: r.commune,
    address: r.address,
    ownerName: r.owner_name,
    ownerPhone: r.owner_phone,
    ownerChannel: r.owner_channel,
    ownerUserId: r.owner_user_id,
    status: r.status,
    source: r.source,
    nationalQrAt: date(r.national_qr_at),
    nationalQrPhoto: r.national_qr_photo,
    checkedOnSiteAt: date(r.checked_on_site_at),
    noticeChatId: r.notice_chat_id,
    decidedBy: r.decided_by,
    decidedAt: date(r.decided_at),
    createdAt: new Date(r.created_at),
  };
}

function toCheckin(r: CheckinRow): Checkin {
  return {
    id: Number(r.id),
    venueId: Number(r.venue_id),
    commune: r.commune,
    channel: r.channel,
    userId: r.user_id,
    name: r.name,
    phone: r.phone,
    assistedBy: r.assisted_by,
    checkedInAt: new Date(r.checked_in_at),
    checkedOutAt: date(r.checked_out_at),
  };
}

/** PostgreSQL's unique_violation. */
function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

/** Everything the venues database is asked, in SQL that runs the same on PostgreSQL and PGlite. */
export class VenueRepository {
  constructor(readonly db: Database) {}

  /**
   * Stores a venue with its reference number, unless the same place (name and address) is already registered in the
   * commune: then that one is returned with `created: false`. A redelivered confirmation returns the venue it made.
   */
  async createVenue(input: NewVenue): Promise<{ venue: Venue; created: boolean; duplicateOf?: Venue }> {
    try {
      return await this.db.transaction(async (tx) => {
        const again = await tx.query<VenueRow>(`SELECT ${VENUE_COLUMNS} FROM venues WHERE idempotency_key = $1`, [input.idempotencyKey]);
        if (again[0]) return { venue: toVenue(again[0]), created: false };
        const same = await this.findSamePlace(tx, input.commune, input.placeKey);
        if (same) return { venue: same, created: false, duplicateOf: same };
        const [counter] = await tx.query<{ n: number }>(
          `INSERT INTO reference_counters (prefix, day, n) VALUES ($1, $2, 1)
           ON CONFLICT (prefix, day) DO UPDATE SET n = reference_counters.n + 1 RETURNING n`,
          [VENUE_REFERENCE_PREFIX, input.localDay],
        );
        const reference = `${VENUE_REFERENCE_PREFIX}-${input.localDay}-${String(Number(counter!.n)).padStart(4, '0')}`;
        const [row] = await tx.query<VenueRow>(
          `INSERT INTO venues (reference, code, name, kind, plate, commune, address, place_key, owner_name, owner_phone, owner_channel, owner_user_id,
                               status, source, notice_chat_id, decided_by, decided_at, idempotency_key, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
           RETURNING ${VENUE_COLUMNS}`,
          [
            reference,
            input.code,
            input.name,
            input.kind,
            input.plate,
            input.commune,
            input.address,
            input.placeKey,
            input.ownerName,
            input.ownerPhone,
            input.ownerChannel,
            input.ownerUserId,
            input.status,
            input.source,
            input.noticeChatId,
            input.decidedBy,
            input.status === 'pending' ? null : input.now.toISOString(),
            input.idempotencyKey,
            input.now.toISOString(),
          ],
        );
        return { venue: toVenue(row!), created: true };
      });
    } catch (err) {
      // Two registrations of one place at the same moment: the unique index lets one in; the other finds it.
      if (!isUniqueViolation(err)) throw err;
      const same = await this.findSamePlace(this.db, input.commune, input.placeKey);
      if (!same) throw err;
      return { venue: same, created: false, duplicateOf: same };
    }
  }

  private async findSamePlace(q: Queryable, commune: string, placeKey: string): Promise<Venue | null> {
    const rows = await q.query<VenueRow>(`SELECT ${VENUE_COLUMNS} FROM venues WHERE commune = $1 AND place_key = $2 AND status <> 'rejected'`, [commune, placeKey]);
    return rows[0] ? toVenue(rows[0]) : null;
  }

  async findById(id: number): Promise<Venue | null> {
    const rows = await this.db.query<VenueRow>(`SELECT ${VENUE_COLUMNS} FROM venues WHERE id = $1`, [id]);
    return rows[0] ? toVenue(rows[0]) : null;
  }

  async findByCode(code: string): Promise<Venue | null> {
    const rows = await this.db.query<VenueRow>(`SELECT ${VENUE_COLUMNS} FROM venues WHERE code = $1`, [code]);
    return rows[0] ? toVenue(rows[0]) : null;
  }

  async venuesOfOwner(channel: ChannelName, userId: string): Promise<Venue[]> {
    const rows = await this.db.query<VenueRow>(
      `SELECT ${VENUE_COLUMNS} FROM venues WHERE owner_channel = $1 AND owner_user_id = $2 AND status <> 'rejected' ORDER BY id`,
      [channel, userId],
    );
    return rows.map(toVenue);
  }

  /** Venues of some communes (all when `communes` is null), newest first. */
  async list(communes: string[] | null, filter: { status?: VenueStatus; kind?: VenueKind } = {}, limit = 500): Promise<Venue[]> {
    const rows = await this.db.query<VenueRow>(
      `SELECT ${VENUE_COLUMNS} FROM venues
        WHERE ($1::text[] IS NULL OR commune = ANY($1::text[])) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3)
        ORDER BY commune, id DESC LIMIT $4`,
      [communes, filter.status ?? null, filter.kind ?? null, limit],
    );
    return rows.map(toVenue);
  }

  /** Venue counts per commune, kind and status. */
  async figures(communes: string[] | null): Promise<Array<{ commune: string; kind: VenueKind; status: VenueStatus; nationalQr: number; onSite: number; n: number }>> {
    const rows = await this.db.query<{ commune: string; kind: VenueKind; status: VenueStatus; national_qr: number; on_site: number; n: number }>(
      `SELECT commune, kind, status, count(national_qr_at)::int AS national_qr, count(checked_on_site_at)::int AS on_site, count(*)::int AS n
         FROM venues WHERE ($1::text[] IS NULL OR commune = ANY($1::text[]))
        GROUP BY commune, kind, status ORDER BY commune, kind, status`,
      [communes],
    );
    return rows.map((r) => ({ commune: r.commune, kind: r.kind, status: r.status, nationalQr: Number(r.national_qr), onSite: Number(r.on_site), n: Number(r.n) }));
  }

  /** Confirms or rejects a pending venue; a venue already decided is returned unchanged. */
  async decide(id: number, status: 'confirmed' | 'rejected', by: string, now: Date): Promise<{ venue: Venue; changed: boolean } | null> {
    const rows = await this.db.query<VenueRow>(
      `UPDATE venues SET status = $2, decided_by = $3, decided_at = $4, updated_at = $4 WHERE id = $1 AND status = 'pending' RETURNING ${VENUE_COLUMNS}`,
      [id, status, by, now.toISOString()],
    );
    if (rows[0]) return { venue: toVenue(rows[0]), changed: true };
    const venue = await this.findById(id);
    return venue ? { venue, changed: false } : null;
  }

  async markNationalQr(id: number, photo: string | null, now: Date): Promise<void> {
    await this.db.query(`UPDATE venues SET national_qr_at = coalesce(national_qr_at, $2), national_qr_photo = coalesce($3, national_qr_photo), updated_at = $2 WHERE id = $1`, [
      id,
      now.toISOString(),
      photo,
    ]);
  }

  async markCheckedOnSite(id: number, now: Date): Promise<void> {
    await this.db.query(`UPDATE venues SET checked_on_site_at = coalesce(checked_on_site_at, $2), updated_at = $2 WHERE id = $1`, [id, now.toISOString()]);
  }

  // ---- check-ins ------------------------------------------------------------------------------------------

  /** The visitor's newest check-in that is not checked out (at any venue). */
  async openCheckin(channel: ChannelName, userId: string, since: Date): Promise<Checkin | null> {
    const rows = await this.db.query<CheckinRow>(
      `SELECT ${CHECKIN_COLUMNS} FROM venue_checkins
        WHERE channel = $1 AND user_id = $2 AND checked_in_at > $3 AND checked_out_at IS NULL ORDER BY checked_in_at DESC LIMIT 1`,
      [channel, userId, since.toISOString()],
    );
    return rows[0] ? toCheckin(rows[0]) : null;
  }

  /** How many check-ins a visitor made at one venue (`venueId`) or anywhere (null) since a time. */
  async countCheckins(channel: ChannelName, userId: string, venueId: number | null, since: Date): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM venue_checkins WHERE channel = $1 AND user_id = $2 AND checked_in_at > $3 AND ($4::int IS NULL OR venue_id = $4)`,
      [channel, userId, since.toISOString(), venueId],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * Stores a check-in and, in the same transaction, checks the visitor out of the place they were still in (nobody is
   * in two places) and remembers their name and phone for next time. A redelivered tap stores nothing.
   */
  async checkIn(c: {
    venue: Venue;
    channel: ChannelName | null;
    userId: string | null;
    name: string;
    phone: string;
    assistedBy: string | null;
    idempotencyKey: string;
    now: Date;
    deleteAfter: Date;
  }): Promise<{ checkin: Checkin; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const again = await tx.query<CheckinRow>(`SELECT ${CHECKIN_COLUMNS} FROM venue_checkins WHERE idempotency_key = $1`, [c.idempotencyKey]);
      if (again[0]) return { checkin: toCheckin(again[0]), created: false };
      const at = c.now.toISOString();
      if (c.channel && c.userId) {
        await tx.query(`UPDATE venue_checkins SET checked_out_at = $3 WHERE channel = $1 AND user_id = $2 AND checked_out_at IS NULL`, [c.channel, c.userId, at]);
        await tx.query(
          `INSERT INTO venue_visitors (channel, user_id, name, phone, delete_after) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (channel, user_id) DO UPDATE SET name = EXCLUDED.name, phone = EXCLUDED.phone, delete_after = EXCLUDED.delete_after`,
          [c.channel, c.userId, c.name, c.phone, c.deleteAfter.toISOString()],
        );
      }
      const [row] = await tx.query<CheckinRow>(
        `INSERT INTO venue_checkins (venue_id, commune, channel, user_id, name, phone, assisted_by, checked_in_at, idempotency_key, delete_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${CHECKIN_COLUMNS}`,
        [c.venue.id, c.venue.commune, c.channel, c.userId, c.name, c.phone, c.assistedBy, at, c.idempotencyKey, c.deleteAfter.toISOString()],
      );
      return { checkin: toCheckin(row!), created: true };
    });
  }

  /** Checks the visitor's own check-in out (once: a second call changes nothing). */
  async checkOut(checkinId: number, channel: ChannelName, userId: string, now: Date): Promise<void> {
    await this.db.query(`UPDATE venue_checkins SET checked_out_at = $4 WHERE id = $1 AND channel = $2 AND user_id = $3 AND checked_out_at IS NULL`, [
      checkinId,
      channel,
      userId,
      now.toISOString(),
    ]);
  }

  /** Visitors a staff member checked in at a venue since a time. */
  async countAssisted(staff: string, venueId: number, since: Date): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM venue_checkins WHERE venue_id = $1 AND assisted_by = $2 AND checked_in_at > $3`, [
      venueId,
      staff,
      since.toISOString(),
    ]);
    return Number(row?.n ?? 0);
  }

  async visitor(channel: ChannelName, userId: string): Promise<{ name: string; phone: string } | null> {
    const rows = await this.db.query<{ name: string; phone: string }>(`SELECT name, phone FROM venue_visitors WHERE channel = $1 AND user_id = $2`, [channel, userId]);
    return rows[0] ?? null;
  }

  /**
   * Visitors of one venue whose stay overlaps [from, to): checked in before `to`, and checked out after `from` (a
   * visitor who never checked out is taken to have stayed `assumedStayMinutes`).
   */
  async visitors(venueId: number, from: Date, to: Date, assumedStayMinutes: number): Promise<Checkin[]> {
    const rows = await this.db.query<CheckinRow>(
      `SELECT ${CHECKIN_COLUMNS} FROM venue_checkins
        WHERE venue_id = $1 AND checked_in_at < $3
          AND coalesce(checked_out_at, checked_in_at + make_interval(mins => $4::int)) > $2
        ORDER BY checked_in_at, id`,
      [venueId, from.toISOString(), to.toISOString(), assumedStayMinutes],
    );
    return rows.map(toCheckin);
  }

  // ---- audit, privacy, retention --------------------------------------------------------------------------

  async audit(entry: { actor: string; scope: string; action: string; venueId: number | null; detail: Record<string, JsonValue>; now: Date }): Promise<void> {
    await this.db.query(`INSERT INTO venue_audit_log (at, actor, scope, action, venue_id, detail) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`, [
      entry.now.toISOString(),
      entry.actor,
      entry.scope,
      entry.action,
      entry.venueId,
      JSON.stringify(entry.detail),
    ]);
  }

  async auditLog(limit = 100): Promise<Array<{ at: Date; actor: string; scope: string; action: string; venueId: number | null; detail: Record<string, JsonValue> }>> {
    const rows = await this.db.query<{ at: Date | string; actor: string; scope: string; action: string; venue_id: number | null; detail: Record<string, JsonValue> | string }>(
      `SELECT at, actor, scope, action, venue_id, detail FROM venue_audit_log ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      at: new Date(r.at),
      actor: r.actor,
      scope: r.scope,
      action: r.action,
      venueId: r.venue_id === null ? null : Number(r.venue_id),
      detail: typeof r.detail === 'string' ? (JSON.parse(r.detail) as Record<string, JsonValue>) : r.detail,
    }));
  }

  /** "Delete my data": the person's check-ins and remembered details go; venues they own stay, without their name and phone. */
  async eraseUser(channel: ChannelName, userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM venue_checkins WHERE channel = $1 AND user_id = $2`, [channel, userId]);
      await tx.query(`DELETE FROM venue_visitors WHERE channel = $1 AND user_id = $2`, [channel, userId]);
      await tx.query(
        `UPDATE venues SET owner_name = NULL, owner_phone = NULL, owner_channel = NULL, owner_user_id = NULL, national_qr_photo = NULL WHERE owner_channel = $1 AND owner_user_id = $2`,
        [channel, userId],
      );
    });
  }

  /** Deletes check-ins and remembered visitor details past their retention; returns how many check-ins. */
  async purgeExpired(now: Date): Promise<number> {
    const rows = await this.db.query(`DELETE FROM venue_checkins WHERE delete_after <= $1 RETURNING id`, [now.toISOString()]);
    await this.db.query(`DELETE FROM venue_visitors WHERE delete_after <= $1`, [now.toISOString()]);
    return rows.length;
  }
}
