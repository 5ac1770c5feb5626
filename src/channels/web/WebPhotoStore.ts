import type { Database } from '../../db/Database';

/** How a web photo is named in answers and records (Telegram's are file ids, Zalo's URLs). */
export const WEB_PHOTO_PREFIX = 'web-photo:';
/** The largest photo the web chat takes (the page makes photos smaller before sending when it can). */
export const WEB_PHOTO_MAX_BYTES = 3 * 1024 * 1024;
/** Photos one chat may send in a day (a report takes one; more is someone filling the disk). */
export const WEB_PHOTOS_PER_DAY = 20;

const DAY_MS = 86_400_000;

/** The picture formats taken, recognised by their first bytes (not by what the client says). */
export function sniffImageType(bytes: Buffer): 'image/jpeg' | 'image/png' | 'image/webp' | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

/**
 * Photos sent from the web chat (table `web_photos`, migration 010). The owner is a keyed hash of the chat's id, so a
 * photo of an anonymous report names nobody; the answer keeps `web-photo:<id>`.
 */
export class WebPhotoStore {
  constructor(private readonly db: Database) {}

  /** Stores a photo once per upload event (a retried upload returns the same reference). */
  async save(ownerHash: string, eventId: string, contentType: string, bytes: Buffer, now: Date): Promise<string> {
    const [row] = await this.db.query<{ id: number }>(
      `INSERT INTO web_photos (owner_hash, event_id, content_type, bytes, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (owner_hash, event_id) DO UPDATE SET event_id = EXCLUDED.event_id RETURNING id`,
      [ownerHash, eventId, contentType, bytes, now.toISOString()],
    );
    return `${WEB_PHOTO_PREFIX}${row!.id}`;
  }

  /** How many photos a chat sent since `since` (a chat may send only a few a day: they take room). */
  async countSince(ownerHash: string, since: Date): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM web_photos WHERE owner_hash = $1 AND created_at >= $2', [ownerHash, since.toISOString()]);
    return row?.n ?? 0;
  }

  /**
   * A stored photo's bytes by its reference (`web-photo:<id>`), for the officials' group; null for any other reference
   * and for a photo no longer kept (erased with its sender's data, or purged).
   */
  async file(ref: string): Promise<{ bytes: Buffer; contentType: string } | null> {
    const id = ref.startsWith(WEB_PHOTO_PREFIX) ? ref.slice(WEB_PHOTO_PREFIX.length) : '';
    if (!/^\d{1,15}$/.test(id)) return null;
    const [row] = await this.db.query<{ bytes: Buffer | Uint8Array; content_type: string }>('SELECT bytes, content_type FROM web_photos WHERE id = $1', [Number(id)]);
    return row ? { bytes: Buffer.from(row.bytes), contentType: row.content_type } : null;
  }

  async eraseOwner(ownerHash: string): Promise<void> {
    await this.db.query('DELETE FROM web_photos WHERE owner_hash = $1', [ownerHash]);
  }

  /**
   * Deletes photos no record and no venue refers to any more, a day after they were sent (a form left unfinished, or
   * a record deleted by its own retention): a photo lives exactly as long as what it belongs to.
   */
  async purgeUnreferenced(now: Date): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM web_photos p WHERE p.created_at < $1
         AND NOT EXISTS (SELECT 1 FROM records r WHERE r.data -> 'photo' ->> 'fileRef' = $2::text || p.id::text)
         AND NOT EXISTS (SELECT 1 FROM venues v WHERE v.national_qr_photo = $2::text || p.id::text)
       RETURNING 1`,
      [new Date(now.getTime() - DAY_MS).toISOString(), WEB_PHOTO_PREFIX],
    );
    return rows.length;
  }
}
