import type { ChannelName, InboundEvent, Locale, Reply } from '../engine/types';
import type { Database } from '../db/Database';
import type { Broadcast, Topic } from './BroadcastRepository';

/** Text keys the box uses (checked in every locale at start-up). */
export const ANNOUNCEMENT_BOX_TEXT_KEYS = ['announcementBox.head'] as const;

/** How long an announcement waits in a box before it is too old to show (and is deleted). */
export const BOX_KEEP_DAYS = 30;

export interface BoxedAnnouncement {
  broadcastId: number;
  topic: Topic;
  textVi: string;
  textEn: string | null;
  addedAt: Date;
}

/**
 * The "new announcements" box: announcements that could not be pushed to a person (Zalo outside the 7-day window
 * without another path, Telegram blocked at the time, the web chat, which cannot push) wait here and are shown at
 * the top of the person's next conversation, newest first, once each.
 *
 * "Once each" across redeliveries: taking the box marks its entries with the event id that showed them, inside the
 * event's processing; a redelivery of that event (its commit failed) takes the same entries again, a new event none.
 */
export class AnnouncementBox {
  constructor(private readonly db: Database) {}

  /** Puts one broadcast in a person's box (again is a no-op). */
  async add(channel: ChannelName, userId: string, broadcastId: number, now: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO announcement_box (channel, user_id, broadcast_id, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [channel, userId, broadcastId, now.toISOString()],
    );
  }

  /** Takes what waits for a person (newest first), marking it shown by this event. */
  async take(channel: ChannelName, userId: string, eventId: string, now: Date): Promise<BoxedAnnouncement[]> {
    const rows = await this.db.query<{ broadcast_id: number; topic: Topic; text_vi: string; text_en: string | null; added_at: Date | string }>(
      `WITH taken AS (
         UPDATE announcement_box SET shown_at = COALESCE(shown_at, $4), shown_event = $3
          WHERE channel = $1 AND user_id = $2 AND (shown_at IS NULL OR shown_event = $3) AND added_at >= $5
          RETURNING broadcast_id, added_at)
       SELECT t.broadcast_id, b.topic, b.text_vi, b.text_en, t.added_at FROM taken t JOIN broadcasts b ON b.id = t.broadcast_id
        ORDER BY b.created_at DESC, b.id DESC`,
      [channel, userId, eventId, now.toISOString(), new Date(now.getTime() - BOX_KEEP_DAYS * 86_400_000).toISOString()],
    );
    return rows.map((r) => ({ broadcastId: Number(r.broadcast_id), topic: r.topic, textVi: r.text_vi, textEn: r.text_en, addedAt: new Date(r.added_at) }));
  }

  /** How many announcements wait for a person (without taking them). */
  async waiting(channel: ChannelName, userId: string): Promise<number> {
    const rows = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM announcement_box WHERE channel = $1 AND user_id = $2 AND shown_at IS NULL`, [channel, userId]);
    return Number(rows[0]?.n ?? 0);
  }

  /** "Delete my data". */
  async erase(channel: ChannelName, userId: string): Promise<void> {
    await this.db.query(`DELETE FROM announcement_box WHERE channel = $1 AND user_id = $2`, [channel, userId]);
  }

  /** Retention: shown entries after a day, waiting ones after `BOX_KEEP_DAYS`. */
  async purgeExpired(now: Date): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM announcement_box WHERE (shown_at IS NOT NULL AND shown_at < $1) OR added_at < $2 RETURNING 1`,
      [new Date(now.getTime() - 86_400_000).toISOString(), new Date(now.getTime() - BOX_KEEP_DAYS * 86_400_000).toISOString()],
    );
    return rows.length;
  }
}

/**
 * Whether an event is the person opening a conversation (not a reminder the bot started): only then is the box
 * shown, so that it is not used up by a message the person may never read.
 */
export function isPersonInitiated(event: InboundEvent): boolean {
  return !event.eventId.startsWith('reminder:');
}

/** The box as replies: "2 new announcements" and each announcement, newest first. */
export function renderBox(items: BoxedAnnouncement[], locale: Locale, t: (locale: Locale, key: string, vars?: Record<string, unknown>) => string, render: (b: Pick<Broadcast, 'topic' | 'textVi' | 'textEn'>, locale: Locale) => Reply[]): Reply[] {
  if (items.length === 0) return [];
  return [{ kind: 'text', text: t(locale, 'announcementBox.head', { count: items.length }) }, ...items.flatMap((i) => render(i, locale))];
}
