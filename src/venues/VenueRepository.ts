import type { ChannelName, Locale } from '../engine/types';
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
  /** The language the owner registered in (their notices use it); null for places added by officials. */
  ownerLocale: Locale | null;
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

/** A venue to store: its fields as registered, and what the repository needs to store it once. */
export type NewVenue = Pick<
  Venue,
  'code' | 'name' | 'kind' | 'plate' | 'commune' | 'address' | 'ownerName' | 'ownerPhone' | 'ownerChannel' | 'ownerUserId' | 'ownerLocale' | 'status' | 'source' | 'noticeChatId' | 'decidedBy'
> & {
  placeKey: string;
  idempotencyKey: string;
  /** The local date as YYMMDD, for the reference. */
  localDay: string;
  now: Date;
};

/** Venues of one commune and kind, counted at an instant. */
export interface VenueFigures {
  commune: string;
  kind: VenueKind;
  listed: number;
  pending: number;
  confirmed: number;
  nationalQr: number;
  checkedOnSite: number;
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
  /** The language the visitor checked in with (their notices use it); null when staff checked them in. */
  locale: Locale | null;
  checkedInAt: Date;
  checkedOutAt: Date | null;
}

const VENUE_FIELDS = [
  'id', 'reference', 'code', 'name', 'kind', 'plate', 'commune', 'address', 'ownerName', 'ownerPhone', 'ownerChannel', 'ownerUserId', 'ownerLocale',
  'status', 'source', 'nationalQrAt', 'nationalQrPhoto', 'checkedOnSiteAt', 'noticeChatId', 'decidedBy', 'decidedAt', 'createdAt',
] as const satisfies ReadonlyArray<keyof Venue>;
const CHECKIN_FIELDS = [
  'id', 'venueId', 'commune', 'channel', 'userId', 'name', 'phone', 'assistedBy', 'locale', 'checkedInAt', 'checkedOutAt',
] as const satisfies ReadonlyArray<keyof Checkin>;

/** `owner_name AS "ownerName", ...`: rows come back in the shape of the record, so one mapper serves every table. */
function selectList(fields: readonly string[]): string {
  return fields.map((f) => `${f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} AS "${f}"`).join(', ');
}

const VENUE_COLUMNS = selectList(VENUE_FIELDS);
const CHECKIN_COLUMNS = selectList(CHECKIN_FIELDS);

/** A row as the drivers give it: ids may be strings (bigint), instants strings (PGlite) or Dates. */
type Row<T> = { [K in keyof T]: T[K] extends Date ? Date | string : T[K] extends Date | null ? Date | string | null : T[K] extends number ? number | string : T[K] };

/** Ids to numbers, instants (`...At`) to Dates; every other field as stored. */
function fromRow<T extends object>(row: Row<T>): T {
  const out: Record<string, unknown> = { ...row };
  for (const [k, v] of Object.entries(out)) {
    if (k === 'id' || k === 'venueId') out[k] = Number(v);
    else if (k.endsWith('At') && v !== null) out[k] = new Date(v as Date | string);
  }
  return out as T;
}

const toVenue = (r: Row<Venue>): Venue => fromRow<Venue>(r);
const toCheckin = (r: Row<Checkin>): Checkin => fromRow<Checkin>(r);

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
        const again = await tx.query<Row<Venue>>(`SELECT ${VENUE_COLUMNS} FROM venues WHERE idempotency_key = $1`, [input.idempotencyKey]);
        if (again[0]) return { venue: toVenue(again[0]), created: false };
        const same = await this.findSamePlace(tx, input.commune, input.placeKey);
        if (same) return { venue: same, created: false, duplicateOf: same };
        const [counter] = await tx.query<{ n: number }>(
          `INSERT INTO reference_counters (prefix, day, n) VALUES ($1, $2, 1)
           ON CONFLICT (prefix, day) DO UPDATE SET n = reference_counters.n + 1 RETURNING n`,
          [VENUE_REFERENCE_PREFIX, input.localDay],
        );
        const reference = `${VENUE_REFERENCE_PREFIX}-${input.localDay}-${String(Number(counter!.n)).padStart(4, '0')}`;
        const [row] = await tx.query<Row<Venue>>(
          `INSERT INTO venues (reference, code, name, kind, plate, commune, address, place_key, owner_name, owner_phone, owner_channel, owner_user_id,
                               status, source, notice_chat_id, decided_by, decided_at, idempotency_key, created_at, updated_at, owner_locale)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20)
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
            input.ownerLocale,
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
    const rows = await q.query<Row<Venue>>(`SELECT ${VENUE_COLUMNS} FROM venues WHERE commune = $1 AND place_key = $2 AND status <> 'rejected'`, [commune, placeKey]);
    return rows[0] ? toVenue(rows[0]) : null;
  }

  async findById(id: number): Promise<Venue | null> {
    const rows = await this.db.query<Row<Venue>>(`SELECT ${VENUE_COLUMNS} FROM venues WHERE id = $1`, [id]);
    return rows[0] ? toVenue(rows[0]) : null;
  }

  async findByCode(code: string): Promise<Venue | null> {
    const rows = await this.db.query<Row<Venue>>(`SELECT ${VENUE_COLUMNS} FROM venues WHERE code = $1`, [code]);
    return rows[0] ? toVenue(rows[0]) : null;
  }

  async venuesOfOwner(channel: ChannelName, userId: string): Promise<Venue[]> {
    const rows = await this.db.query<Row<Venue>>(
      `SELECT ${VENUE_COLUMNS} FROM venues WHERE owner_channel = $1 AND owner_user_id = $2 AND status <> 'rejected' ORDER BY id`,
      [channel, userId],
    );
    return rows.map(toVenue);
  }

  /** Venues of some communes (all when `communes` is null), newest first. */
  async list(communes: string[] | null, filter: { status?: VenueStatus; kind?: VenueKind } = {}, limit = 500): Promise<Venue[]> {
    const rows = await this.db.query<Row<Venue>>(
      `SELECT ${VENUE_COLUMNS} FROM venues
        WHERE ($1::text[] IS NULL OR commune = ANY($1::text[])) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3)
        ORDER BY commune, id DESC LIMIT $4`,
      [communes, filter.status ?? null, filter.kind ?? null, limit],
    );
    return rows.map(toVenue);
  }

  /**
   * Venues per commune and kind as they stood at `end`: listed (known to the commune and not refused), waiting for
   * the commune, confirmed, with the national QR code posted, checked on site.
   */
  async figures(communes: string[] | null, end: Date): Promise<VenueFigures[]> {
    const rows = await this.db.query<Row<VenueFigures>>(
      `SELECT commune, kind, count(*)::int AS listed,
              count(*) FILTER (WHERE status = 'pending' OR decided_at >= $2)::int AS pending,
              count(*) FILTER (WHERE status = 'confirmed' AND decided_at < $2)::int AS confirmed,
              count(*) FILTER (WHERE national_qr_at < $2)::int AS "nationalQr",
              count(*) FILTER (WHERE checked_on_site_at < $2)::int AS "checkedOnSite"
         FROM venues
        WHERE ($1::text[] IS NULL OR commune = ANY($1::text[])) AND status <> 'rejected' AND created_at < $2
        GROUP BY commune, kind ORDER BY commune, kind`,
      [communes, end.toISOString()],
    );
    return rows.map((r) => ({ commune: r.commune, kind: r.kind, listed: Number(r.listed), pending: Number(r.pending), confirmed: Number(r.confirmed), nationalQr: Number(r.nationalQr), checkedOnSite: Number(r.checkedOnSite) }));
  }

  /** Confirms or rejects a pending venue; a venue already decided is returned unchanged. */
  async decide(id: number, status: 'confirmed' | 'rejected', by: string, now: Date): Promise<{ venue: Venue; changed: boolean } | null> {
    const rows = await this.db.query<Row<Venue>>(
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
    const rows = await this.db.query<Row<Checkin>>(
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
  async checkIn(
    c: Pick<Checkin, 'channel' | 'userId' | 'name' | 'phone' | 'assistedBy' | 'locale'> & { venue: Venue; idempotencyKey: string; now: Date; deleteAfter: Date },
  ): Promise<{ checkin: Checkin; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const again = await tx.query<Row<Checkin>>(`SELECT ${CHECKIN_COLUMNS} FROM venue_checkins WHERE idempotency_key = $1`, [c.idempotencyKey]);
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
      const [row] = await tx.query<Row<Checkin>>(
        `INSERT INTO venue_checkins (venue_id, commune, channel, user_id, name, phone, assisted_by, locale, checked_in_at, idempotency_key, delete_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${CHECKIN_COLUMNS}`,
        [c.venue.id, c.venue.commune, c.channel, c.userId, c.name, c.phone, c.assistedBy, c.locale, at, c.idempotencyKey, c.deleteAfter.toISOString()],
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
    const rows = await this.db.query<Row<Checkin>>(
      `SELECT ${CHECKIN_COLUMNS} FROM venue_checkins
        WHERE venue_id = $1 AND checked_in_at < $3
          AND coalesce(checked_out_at, checked_in_at + make_interval(mins => $4::int)) > $2
        ORDER BY checked_in_at, id`,
      [venueId, from.toISOString(), to.toISOString(), assumedStayMinutes],
    );
    return rows.map(toCheckin);
  }

  // ---- privacy, retention -------------------------------------------------------------------------------

  /** "Delete my data": the person's check-ins and remembered details go; venues they own stay, without their name and phone. */
  async eraseUser(channel: ChannelName, userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM venue_checkins WHERE channel = $1 AND user_id = $2`, [channel, userId]);
      await tx.query(`DELETE FROM venue_visitors WHERE channel = $1 AND user_id = $2`, [channel, userId]);
      await tx.query(
        `UPDATE venues SET owner_name = NULL, owner_phone = NULL, owner_channel = NULL, owner_user_id = NULL, owner_locale = NULL, national_qr_photo = NULL WHERE owner_channel = $1 AND owner_user_id = $2`,
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
