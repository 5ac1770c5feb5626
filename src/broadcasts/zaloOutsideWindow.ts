import type { ZaloConfig } from '../config';
import type { Logger } from '../logger';
import { describeError } from '../errors';
import type { Database } from '../db/Database';
import type { AnnouncementBox } from './AnnouncementBox';
import type { Broadcast } from './BroadcastRepository';
import { sleep } from '../util/sleep';

/** The part of the OA API these paths use (the Zalo channel's client implements it). */
export interface ZaloReachApi {
  sendTemplateByPhone(templateRoot: string, phone: string, templateId: string, templateData: Record<string, string>, trackingId: string): Promise<unknown>;
  createArticle(article: { title: string; author: string; coverUrl: string; description: string; paragraphs: string[] }): Promise<string>;
  broadcastArticle(articleId: string, cities: string): Promise<unknown>;
}

/** How an announcement reached a Zalo follower outside the 7-day window (a delivery status). */
export type OutsideWindowStatus = 'template' | 'article' | 'boxed';

/**
 * ZNS/ZBS template error codes that change what we do. From Zalo's ZNS error table as copied by third parties; NOT
 * confirmed against the official page (see the README's Zalo section): unknown codes are handled like "this
 * recipient cannot get a template", which is always safe (the announcement waits in their box).
 */
export const ZNS_ERROR = {
  /** The phone number is invalid, has no Zalo account, or cannot receive template messages. */
  invalidPhone: [-108, -118, -119, -114, -139, -141],
  /** The OA's or the template's daily quota is used up, or the balance is too low. */
  quota: [-115, -126, -144, -147],
  /** This template may not be sent at night (22:00–06:00). */
  night: [-133],
  /** The template is not approved, not granted to this app, or disabled. */
  notApproved: [-109, -117, -131, -146],
} as const;

type ClosedReason = 'quota' | 'night' | 'notApproved';

function codeOf(err: unknown): number | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}

/** How long the result of the article broadcast of one announcement is awaited by the other recipients. */
const ARTICLE_WAIT_MS = 30_000;
/** An article broadcast still `sending` after this long was cut off by a crash: treated as failed (never retried). */
const ARTICLE_STALE_MS = 120_000;

export interface ZaloOutsideWindowDeps {
  db: Database;
  box: AnnouncementBox;
  api: () => ZaloReachApi | null;
  config: Pick<ZaloConfig, 'template' | 'article'>;
  /** The district's name (article title and author). */
  district: string;
  log: Logger;
  clock?: () => number;
}

/**
 * What a broadcast does for a Zalo follower who has not written to the OA in the last 7 days (the consultation
 * message was refused with -230/-232), in this order, each path only when the OA administrator turned it on:
 * 1. urgent announcements: an approved template message to the phone they shared with the OA (`ZALO_TEMPLATE_ID`);
 * 2. district-wide general announcements: one OA article broadcast to the province's followers (`ZALO_ARTICLE_CITIES`);
 * 3. otherwise, and whenever a path fails: the announcement waits in their "new announcements" box.
 */
export class ZaloOutsideWindow {
  private readonly clock: () => number;
  /** Broadcasts for which the template path is closed (quota used up, night-time block, template not approved). */
  private readonly templateClosed = new Map<number, ClosedReason>();
  private readonly articles = new Map<number, Promise<boolean>>();

  constructor(private readonly deps: ZaloOutsideWindowDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Remembers the phone a follower shared with the OA (`user_submit_info`). */
  async rememberPhone(userId: string, phone: string, now: Date): Promise<void> {
    await this.deps.db.query(
      `INSERT INTO zalo_shared_phones (user_id, phone, shared_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET phone = $2, shared_at = $3`,
      [userId, phone, now.toISOString()],
    );
  }

  /** Retention: a shared phone is kept `days` after it was shared (whether Zalo is on now or not). */
  static async purgeExpired(db: Database, now: Date, days: number): Promise<number> {
    const rows = await db.query(`DELETE FROM zalo_shared_phones WHERE shared_at < $1 RETURNING 1`, [new Date(now.getTime() - days * 86_400_000).toISOString()]);
    return rows.length;
  }

  private async phoneOf(userId: string): Promise<string | null> {
    const rows = await this.deps.db.query<{ phone: string }>(`SELECT phone FROM zalo_shared_phones WHERE user_id = $1`, [userId]);
    return rows[0]?.phone ?? null;
  }

  /** Reaches one follower outside the window; the returned status is what the broadcast report counts. */
  async reach(b: Broadcast, userId: string): Promise<{ status: OutsideWindowStatus; error?: string }> {
    const api = this.deps.api();
    let error: string | undefined;
    if (api && b.topic === 'urgent' && this.deps.config.template && !this.templateClosed.has(b.id)) {
      const phone = await this.phoneOf(userId);
      if (phone) {
        const sent = await this.sendTemplate(api, b, phone);
        if (sent === true) return { status: 'template' };
        error = sent;
      }
    }
    if (api && b.topic === 'news' && this.deps.config.article && b.communes === null) {
      if (await this.articleSent(api, b)) return { status: 'article' };
      error = 'the OA article broadcast failed (see the log)';
    }
    await this.deps.box.add('zalo', userId, b.id, new Date(this.clock()));
    return { status: 'boxed', ...(error ? { error } : {}) };
  }

  /** True when sent; otherwise why not. Closes the path for this broadcast when no other recipient would get it. */
  private async sendTemplate(api: ZaloReachApi, b: Broadcast, phone: string): Promise<true | string> {
    const t = this.deps.config.template!;
    try {
      // Zalo wants the phone as 84xxxxxxxxx.
      const intl = phone.replace(/[^\d]/g, '').replace(/^0/, '84');
      await api.sendTemplateByPhone(t.apiRoot, intl, t.templateId, { [t.textParam]: b.textVi }, `bc${b.id}-${intl.slice(-4)}`);
      return true;
    } catch (err) {
      const code = codeOf(err);
      const closed: ClosedReason | null =
        code === null ? null : ZNS_ERROR.quota.includes(code as never) ? 'quota' : ZNS_ERROR.night.includes(code as never) ? 'night' : ZNS_ERROR.notApproved.includes(code as never) ? 'notApproved' : null;
      if (closed && !this.templateClosed.has(b.id)) {
        this.templateClosed.set(b.id, closed);
        const fix =
          closed === 'quota'
            ? 'the template quota or balance is used up: top up in the Zalo Cloud Account; the rest of this announcement waits in the boxes'
            : closed === 'night'
              ? 'this template may not be sent between 22:00 and 06:00; the rest of this announcement waits in the boxes'
              : 'the template is not approved or not granted to this app: check ZALO_TEMPLATE_ID in the Zalo Cloud Account → ZBS → templates';
        this.deps.log.warn({ broadcast: b.id, code, err: describeError(err) }, `zalo template path closed for this announcement: ${fix}`);
      }
      return `template message refused (${code ?? describeError(err).message})`;
    }
  }

  /** Whether this announcement's article broadcast went out; the first caller (of any process) sends it, once. */
  private articleSent(api: ZaloReachApi, b: Broadcast): Promise<boolean> {
    let p = this.articles.get(b.id);
    if (!p) {
      p = this.ensureArticle(api, b).catch((err: unknown) => {
        this.deps.log.error({ broadcast: b.id, err: describeError(err) }, 'zalo article broadcast: could not record its state');
        return false;
      });
      this.articles.set(b.id, p);
      if (this.articles.size > 50) this.articles.delete(this.articles.keys().next().value!);
    }
    return p;
  }

  private async ensureArticle(api: ZaloReachApi, b: Broadcast): Promise<boolean> {
    const db = this.deps.db;
    const mine = await db.query(
      `INSERT INTO broadcast_articles (broadcast_id, status, started_at) VALUES ($1, 'sending', $2) ON CONFLICT DO NOTHING RETURNING 1`,
      [b.id, new Date(this.clock()).toISOString()],
    );
    if (mine.length === 0) return this.awaitArticle(b.id);
    const a = this.deps.config.article!;
    try {
      const paragraphs = b.textVi.split(/\n+/).filter((p) => p.trim() !== '');
      const title = `Thông báo của ${this.deps.district}`;
      const articleId = await api.createArticle({ title, author: this.deps.district, coverUrl: a.coverUrl, description: paragraphs[0]!.slice(0, 300), paragraphs });
      // From here the article exists; if the broadcast call fails it is not repeated (at most once).
      await api.broadcastArticle(articleId, a.cities);
      await db.query(`UPDATE broadcast_articles SET status = 'sent', article_id = $2 WHERE broadcast_id = $1`, [b.id, articleId]);
      this.deps.log.info({ broadcast: b.id }, 'zalo: announcement broadcast as an OA article to followers outside the 7-day window');
      return true;
    } catch (err) {
      await db.query(`UPDATE broadcast_articles SET status = 'failed', error = $2 WHERE broadcast_id = $1`, [b.id, describeError(err).message.slice(0, 300)]);
      this.deps.log.warn({ broadcast: b.id, code: codeOf(err), err: describeError(err) }, 'zalo article broadcast failed (quota, night-time block or set-up): the recipients outside the window get the announcement in their box');
      return false;
    }
  }

  /** Another process is sending the article: wait for its result. */
  private async awaitArticle(broadcastId: number): Promise<boolean> {
    const deadline = this.clock() + ARTICLE_WAIT_MS;
    for (;;) {
      const rows = await this.deps.db.query<{ status: string; started_at: Date | string }>(`SELECT status, started_at FROM broadcast_articles WHERE broadcast_id = $1`, [broadcastId]);
      const r = rows[0];
      if (!r || r.status === 'failed') return false;
      if (r.status === 'sent') return true;
      if (new Date(r.started_at).getTime() < this.clock() - ARTICLE_STALE_MS || this.clock() > deadline) return false;
      await sleep(200);
    }
  }
}
