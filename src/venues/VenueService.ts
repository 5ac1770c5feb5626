import type { Action, ActionContext, Translator } from '../engine/contracts';
import type { ChannelName, JsonValue, Locale, Reply } from '../engine/types';
import type { Locality } from '../locality/localitySchema';
import { userTag, type Logger } from '../logger';
import type { Outbound } from '../outbound/Outbound';
import { generateVenueCode, placeKey } from './venueCodes';
import { composePosterContent } from './posterContent';
import { VENUE_KINDS, type Checkin, type Venue, type VenueFigures, type VenueKind, type VenueRepository, type VenueStatus } from './VenueRepository';
import type * as Poster from './poster';

let poster: typeof Poster | undefined;
/** The poster renderer, loaded on the first poster: its PDF and image libraries hold ~28 MB a server mostly never needs. */
function posterRenderer(): typeof Poster {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return (poster ??= require('./poster') as typeof Poster);
}

/**
 * Which communes an official may see: their own commune's (a commune group, a commune account) or the whole
 * district's. Every VenueService call about officials' data takes one, so no caller can forget it.
 */
export interface VenueScope {
  /** Commune ids, or 'all' for the district. */
  communes: string[] | 'all';
  /** Who acts, for the audit log: an id (`telegram:123`, `account:lan`, `api:<caller>`) and a name. */
  actor: { id: string; name: string };
}

/**
 * The officials' audit log (the dashboard's `audit_log`): every view, export or use of visitors' personal data and
 * every decision on a venue is written there, wherever the official acted (dashboard, group, API).
 */
export interface VenueAuditLog {
  write(who: { id: string; name: string }, action: string, subject: string, detail?: Record<string, unknown>): Promise<void>;
}

export interface VenueServiceDeps {
  repo: VenueRepository;
  locality: Locality;
  i18n: Translator;
  outbound: Outbound;
  log: Logger;
  audit: VenueAuditLog;
  /** Queues a message that must arrive (the notice outbox), outside any record. */
  enqueueNotice: (n: { channel: ChannelName; recipient: string; replies: Reply[]; now: Date }) => Promise<void>;
  /** The district officials' group: venues of communes without a group of their own are announced there. */
  districtChatId: string | null;
  /** `PUBLIC_URL`: links on posters and in chats are absolute only when it is set. */
  publicUrl: string | null;
  telegramBotUsername: string | null;
  zaloOaId: string | null;
  /** `ZALO_CHECKIN_LINK`: a template of the OA link carrying a venue's check-in (`{oaId}`, `{payload}`, `{code}`). */
  zaloCheckinLink: string | null;
  clock?: () => number;
}

export type OutcomeFailure = { ok: false; error: 'not-found' | 'out-of-scope' | 'invalid'; message: string };

/** Officials read Vietnamese. */
const OFFICIALS: Locale = 'vi';
const HOUR = 3_600_000;
/** Visitors a staff member may check in for others at one venue in an hour (a busy market gate). */
const ASSISTED_PER_HOUR = 300;
/** An open check-in older than this is not offered for checking out (people forget). */
const OPEN_CHECKIN_HOURS = 12;
const POSTER_CACHE_SIZE = 50;

export const VENUE_ACTION_NAMES = [
  'registerVenue',
  'loadMyVenues',
  'sendVenuePoster',
  'markNationalQr',
  'findVenueForCheckin',
  'checkInVenue',
  'findOpenCheckin',
  'checkOutVenue',
  'assistedCheckin',
] as const;
export type VenueActionName = (typeof VENUE_ACTION_NAMES)[number];

/** Text keys the venues code uses outside flows; start-up checks them in every locale. */
export const VENUE_TEXT_KEYS = [
  'venues.unknownCode',
  'venues.rateLimited',
  'venues.registerLimited',
  'venues.duplicate',
  'venues.noVenues',
  'venues.noOpenCheckin',
  'venues.noLinkBase',
  'venues.posterCaption',
  'venues.nationalSiteUnknown',
  'venues.status_pending',
  'venues.status_confirmed',
  'venues.status_rejected',
  ...VENUE_KINDS.map((k) => `venues.kind_${k}`),
  'venues.poster.title',
  'venues.poster.step1',
  'venues.poster.step2',
  'venues.poster.step3',
  'venues.poster.code',
  'venues.poster.contact',
  'venues.poster.footer',
  'venues.decided',
  ...['title', 'intro', 'web', 'telegram', 'zalo', 'zaloHow', 'zaloFallback', 'unknownTitle', 'unknown'].map((k) => `venues.page.${k}`),
  'venues.notifyText',
  ...['listed', 'nationalQr', 'confirmed', 'checkedOnSite', 'byKind', 'total'].map((k) => `venues.figures.${k}`),
  'officials.venueNew',
  'officials.venueAuto',
  'officials.venueConfirm',
  'officials.venueReject',
  'officials.venueConfirmedBy',
  'officials.venueRejectedBy',
  'officials.venueList',
  'officials.venueListEmpty',
  'officials.venueLine',
];

/**
 * Venues (public places that must post a QR code): registration by owners and by officials, posters, check-in and
 * check-out, assisted check-in, and for officials the list, figures, tracing, export and notifying visitors, always
 * within a commune scope. The flows name its actions; the group handler, the HTTP API and the dashboard call it.
 */
export class VenueService {
  private readonly clock: () => number;
  private readonly dayFormat: Intl.DateTimeFormat;
  private readonly timeFormat: Intl.DateTimeFormat;
  private readonly posters = new Map<string, { pdf: Buffer; png: Buffer }>();

  constructor(private readonly deps: VenueServiceDeps) {
    this.clock = deps.clock ?? Date.now;
    const timeZone = deps.locality.records.timezone;
    this.dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone, year: '2-digit', month: '2-digit', day: '2-digit' });
    this.timeFormat = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit', hourCycle: 'h23' });
  }

  get repo(): VenueRepository {
    return this.deps.repo;
  }

  private get settings() {
    return this.deps.locality.venues;
  }

  private t(locale: Locale, key: string, vars?: Record<string, unknown>): string {
    return this.deps.i18n.t(locale, key, vars);
  }

  communeName(id: string): string {
    return this.deps.locality.communes.find((c) => c.id === id)?.name ?? id;
  }

  formatTime(d: Date): string {
    return this.timeFormat.format(d).replace(',', '');
  }

  private localDay(now: Date): string {
    return this.dayFormat.format(now).replace(/-/g, '');
  }

  private inScope(scope: VenueScope, commune: string): boolean {
    return scope.communes === 'all' || scope.communes.includes(commune);
  }

  private scopeCommunes(scope: VenueScope): string[] | null {
    return scope.communes === 'all' ? null : scope.communes;
  }

  private scopeLabel(scope: VenueScope): string {
    return scope.communes === 'all' ? 'all' : scope.communes.join(',');
  }

  private async audit(scope: VenueScope, action: string, venue: Venue, detail: Record<string, unknown> = {}): Promise<void> {
    await this.deps.audit.write(scope.actor, `venue_${action}`, `venue:${venue.reference}`, { scope: this.scopeLabel(scope), venueId: venue.id, ...detail });
  }

  private autoConfirms(commune: string): boolean {
    const a = this.settings.autoConfirm;
    return a === true || (Array.isArray(a) && a.includes(commune));
  }

  /** The officials' group for a commune: its own, or the district's. */
  noticeChatFor(commune: string): string | null {
    return this.deps.locality.communes.find((c) => c.id === commune)?.officialsTelegramChatId ?? this.deps.districtChatId;
  }

  // ---- links and posters ----------------------------------------------------------------------------------

  private absolute(pathname: string): string {
    return `${this.deps.publicUrl ?? ''}${pathname}`;
  }

  /** What the poster's QR code opens: the venue's check-in page, which offers the web chat, Telegram and Zalo. */
  checkinLink(code: string): string {
    return this.absolute(`/v/${code}`);
  }

  /** The deep-link payload that opens the check-in flow at its entry step with the venue code. */
  static checkinPayload(code: string): string {
    return `checkin__code__${code}`;
  }

  webCheckinLink(code: string): string {
    return this.absolute(`/?start=${VenueService.checkinPayload(code)}`);
  }

  telegramCheckinLink(code: string): string | null {
    return this.deps.telegramBotUsername ? `https://t.me/${this.deps.telegramBotUsername}?start=${VenueService.checkinPayload(code)}` : null;
  }

  zaloLink(): string | null {
    return this.deps.zaloOaId ? `https://zalo.me/${this.deps.zaloOaId}` : null;
  }

  /**
   * The Zalo link of a venue's check-in: the `ZALO_CHECKIN_LINK` template filled in (`carriesCode`: the OA chat opens
   * on the check-in), else the OA's plain link (the visitor sends the code), else null without an OA.
   */
  zaloCheckinLink(code: string): { url: string; carriesCode: boolean } | null {
    const template = this.deps.zaloCheckinLink;
    if (template && (this.deps.zaloOaId || !template.includes('{oaId}'))) {
      const fill: Record<string, string> = { oaId: this.deps.zaloOaId ?? '', payload: VenueService.checkinPayload(code), code };
      return { url: template.replace(/\{(oaId|payload|code)\}/g, (_, k: string) => encodeURIComponent(fill[k]!)), carriesCode: true };
    }
    const plain = this.zaloLink();
    return plain ? { url: plain, carriesCode: false } : null;
  }

  posterUrls(code: string): { pdf: string; png: string } {
    return { pdf: this.absolute(`/venues/poster/${code}.pdf`), png: this.absolute(`/venues/poster/${code}.png`) };
  }

  /** The poster of a venue (PDF and PNG), or null for an unknown or rejected code. Rendered once, then cached. */
  async poster(code: string): Promise<{ pdf: Buffer; png: Buffer; venue: Venue } | null> {
    const venue = await this.deps.repo.findByCode(code);
    if (!venue || venue.status === 'rejected') return null;
    const key = `${code}:${venue.name}:${venue.address}:${venue.kind}:${venue.plate ?? ''}`;
    let files = this.posters.get(key);
    if (!files) {
      const content = composePosterContent(venue, this.deps.locality, this.deps.i18n, this.checkinLink(venue.code));
      const { renderPosterPdf, renderPosterPng } = posterRenderer();
      files = { pdf: await renderPosterPdf(content), png: renderPosterPng(content) };
      if (this.posters.size >= POSTER_CACHE_SIZE) this.posters.delete(this.posters.keys().next().value!);
      this.posters.set(key, files);
    }
    return { ...files, venue };
  }

  private posterReplies(venue: Venue, locale: Locale, channel: ChannelName): Reply[] {
    // The web chat can follow a link relative to this server; Telegram and Zalo fetch the files from PUBLIC_URL.
    if (!this.deps.publicUrl && channel !== 'web') return [{ kind: 'text', text: this.t(locale, 'venues.noLinkBase', { code: venue.code }) }];
    const urls = this.posterUrls(venue.code);
    const caption = this.t(locale, 'venues.posterCaption', { name: venue.name, code: venue.code });
    return [{ kind: 'document', url: urls.pdf, imageUrl: urls.png, fileName: `ma-qr-${venue.code}.pdf`, caption }];
  }

  // ---- officials ------------------------------------------------------------------------------------------

  async list(scope: VenueScope, filter: { status?: VenueStatus; kind?: VenueKind } = {}): Promise<Venue[]> {
    return this.deps.repo.list(this.scopeCommunes(scope), filter);
  }

  async get(scope: VenueScope, id: number): Promise<Venue | null> {
    const venue = await this.deps.repo.findById(id);
    return venue && this.inScope(scope, venue.commune) ? venue : null;
  }

  /** Confirms or rejects a venue of the scope; the owner is told on their channel. */
  async decide(scope: VenueScope, id: number, status: 'confirmed' | 'rejected'): Promise<{ ok: true; venue: Venue; changed: boolean } | OutcomeFailure> {
    const venue = await this.deps.repo.findById(id);
    if (!venue) return { ok: false, error: 'not-found', message: `No venue with id ${id}` };
    if (!this.inScope(scope, venue.commune)) return { ok: false, error: 'out-of-scope', message: `Venue ${venue.reference} is in another commune` };
    const now = new Date(this.clock());
    const result = await this.deps.repo.decide(id, status, `${scope.actor.name} (${scope.actor.id})`, now);
    if (!result) return { ok: false, error: 'not-found', message: `No venue with id ${id}` };
    if (result.changed) {
      this.deps.log.info({ venue: result.venue.reference, status, commune: venue.commune }, 'venue decided');
      await this.audit(scope, status === 'confirmed' ? 'confirm' : 'reject', result.venue);
      const v = result.venue;
      if (v.ownerChannel && v.ownerUserId && this.deps.outbound.has(v.ownerChannel)) {
        const locale = this.visitorLocale(v.ownerLocale);
        const text = this.t(locale, 'venues.decided', { reference: v.reference, name: v.name, status: this.t(locale, `venues.status_${status}`) });
        await this.deps.enqueueNotice({ channel: v.ownerChannel, recipient: v.ownerUserId, replies: [{ kind: 'text', text }], now });
      }
    }
    return { ok: true, venue: result.venue, changed: result.changed };
  }

  /** An official checked the venue on site (its QR code posted, its checkpoint working). */
  async markCheckedOnSite(scope: VenueScope, id: number): Promise<{ ok: true; venue: Venue } | OutcomeFailure> {
    const venue = await this.get(scope, id);
    if (!venue) return { ok: false, error: 'not-found', message: `No venue with id ${id} in your scope` };
    await this.deps.repo.markCheckedOnSite(id, new Date(this.clock()));
    if (!venue.checkedOnSiteAt) await this.audit(scope, 'checked_on_site', venue);
    return { ok: true, venue: (await this.deps.repo.findById(id))! };
  }

  /** A venue an official found in the field: confirmed at once, no owner account. */
  async add(
    scope: VenueScope,
    input: { name: string; kind: VenueKind; plate?: string | null; commune: string; address: string; ownerName?: string | null; ownerPhone?: string | null; requestId: string },
  ): Promise<{ ok: true; venue: Venue; created: boolean; duplicate: boolean } | OutcomeFailure> {
    if (!this.deps.locality.communes.some((c) => c.id === input.commune)) return { ok: false, error: 'invalid', message: `Unknown commune '${input.commune}'` };
    if (!this.inScope(scope, input.commune)) return { ok: false, error: 'out-of-scope', message: `Commune '${input.commune}' is outside your scope` };
    const now = new Date(this.clock());
    const { venue, created, duplicateOf } = await this.deps.repo.createVenue({
      code: generateVenueCode(),
      name: input.name,
      kind: input.kind,
      plate: input.plate ?? null,
      commune: input.commune,
      address: input.address,
      placeKey: placeKey(input.name, input.address),
      ownerName: input.ownerName ?? null,
      ownerPhone: input.ownerPhone ?? null,
      ownerChannel: null,
      ownerUserId: null,
      ownerLocale: null,
      status: 'confirmed',
      source: 'field',
      noticeChatId: null,
      decidedBy: `${scope.actor.name} (${scope.actor.id})`,
      idempotencyKey: `field:${input.requestId}`,
      localDay: this.localDay(now),
      now,
    });
    if (created) {
      await this.deps.repo.markCheckedOnSite(venue.id, now);
      await this.audit(scope, 'add', venue);
    }
    return { ok: true, venue, created, duplicate: duplicateOf !== undefined };
  }

  /** Venues per commune and kind now: listed (all but refused), waiting, confirmed, with the national QR, checked on site. */
  async figures(scope: VenueScope): Promise<VenueFigures[]> {
    // The counts are of what happened before an instant: a venue added at this very millisecond counts too.
    return this.deps.repo.figures(this.scopeCommunes(scope), new Date(this.clock() + 1));
  }

  /** The visitors of a venue of the scope in a window; writes nothing (each caller writes what it did). */
  private async visitorsOf(scope: VenueScope, venueId: number, from: Date, to: Date): Promise<{ ok: true; venue: Venue; visitors: Checkin[] } | OutcomeFailure> {
    if (!(from < to)) return { ok: false, error: 'invalid', message: "'from' must be before 'to'" };
    const venue = await this.deps.repo.findById(venueId);
    if (!venue) return { ok: false, error: 'not-found', message: `No venue with id ${venueId}` };
    if (!this.inScope(scope, venue.commune)) return { ok: false, error: 'out-of-scope', message: `Venue ${venue.reference} is in another commune` };
    return { ok: true, venue, visitors: await this.deps.repo.visitors(venue.id, from, to, this.settings.assumedStayMinutes) };
  }

  /** Visitors of a venue in a time window, for officials of its commune; each look is written to the audit log. */
  async trace(scope: VenueScope, venueId: number, from: Date, to: Date): Promise<{ ok: true; venue: Venue; visitors: Checkin[] } | OutcomeFailure> {
    const traced = await this.visitorsOf(scope, venueId, from, to);
    if (traced.ok) await this.audit(scope, 'trace', traced.venue, { from: from.toISOString(), to: to.toISOString(), visitors: traced.visitors.length });
    return traced;
  }

  /** The trace as CSV (UTF-8 with a BOM, so that Excel shows the diacritics), written to the audit log as an export. */
  async exportCsv(scope: VenueScope, venueId: number, from: Date, to: Date): Promise<{ ok: true; fileName: string; csv: string } | OutcomeFailure> {
    const traced = await this.visitorsOf(scope, venueId, from, to);
    if (!traced.ok) return traced;
    const { venue, visitors } = traced;
    // A cell that a spreadsheet would run as a formula gets a leading apostrophe (a phone like +8491... is a number, not a formula).
    const formula = (v: string) => /^[=@\t\r]/.test(v) || (/^[+-]/.test(v) && !/^[+-]\d+$/.test(v));
    const cell = (v: string) => {
      const safe = formula(v) ? `'${v}` : v;
      return /[",\n\r']/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
    };
    const lines = [
      ['venue_reference', 'venue_name', 'commune', 'name', 'phone', 'checked_in', 'checked_out', 'assisted'].join(','),
      ...visitors.map((c) =>
        [venue.reference, venue.name, this.communeName(venue.commune), c.name, c.phone, this.formatTime(c.checkedInAt), c.checkedOutAt ? this.formatTime(c.checkedOutAt) : '', c.assistedBy ? 'yes' : 'no']
          .map(cell)
          .join(','),
      ),
    ];
    await this.audit(scope, 'export_csv', venue, { from: from.toISOString(), to: to.toISOString(), rows: visitors.length });
    return { ok: true, fileName: `truy-vet-${venue.reference}.csv`, csv: `\ufeff${lines.join('\r\n')}\r\n` };
  }

  /** A language the texts have, for a person who chose `locale` (null: not known, the default). */
  private visitorLocale(locale: Locale | null): Locale {
    return locale && this.deps.i18n.locales.includes(locale) ? locale : this.deps.i18n.locales[0]!;
  }

  /**
   * Sends the traced visitors a message on their own channel (what to do, whom to call), once per visitor and in the
   * language they used to check in, through the notice outbox (the same sender and retries as officials' notices).
   * Visitors who cannot be reached that way (the web chat, checked in by staff) are returned, to be called by phone.
   */
  async notifyVisitors(
    scope: VenueScope,
    venueId: number,
    from: Date,
    to: Date,
    message: string | null,
  ): Promise<{ ok: true; notified: number; byPhone: Array<{ name: string; phone: string }> } | OutcomeFailure> {
    const traced = await this.visitorsOf(scope, venueId, from, to);
    if (!traced.ok) return traced;
    const { venue, visitors } = traced;
    const now = new Date(this.clock());
    const station = this.deps.locality.communes.find((c) => c.id === venue.commune)?.healthStation;
    const call = station?.phone ?? this.deps.locality.hotlines[0]!.number;
    const seen = new Set<string>();
    const byPhone: Array<{ name: string; phone: string }> = [];
    let notified = 0;
    for (const c of visitors) {
      if (!c.channel || !c.userId || !this.deps.outbound.has(c.channel)) {
        if (!byPhone.some((p) => p.phone === c.phone)) byPhone.push({ name: c.name, phone: c.phone });
        continue;
      }
      const key = `${c.channel}:${c.userId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const locale = this.visitorLocale(c.locale);
      const text = this.t(locale, 'venues.notifyText', { venue: venue.name, time: this.formatTime(c.checkedInAt), call, message: message ?? '' }).trim();
      await this.deps.enqueueNotice({ channel: c.channel, recipient: c.userId, replies: [{ kind: 'text', text }], now });
      notified++;
    }
    await this.audit(scope, 'notify', venue, { from: from.toISOString(), to: to.toISOString(), notified, byPhone: byPhone.length });
    return { ok: true, notified, byPhone };
  }

  /** The venues of a scope as lines of text for an officials' group. */
  async listText(scope: VenueScope): Promise<string> {
    const venues = await this.list(scope);
    if (venues.length === 0) return this.t(OFFICIALS, 'officials.venueListEmpty');
    const lines = venues.slice(0, 60).map((v) =>
      this.t(OFFICIALS, 'officials.venueLine', {
        reference: v.reference,
        name: v.name,
        kind: this.t(OFFICIALS, `venues.kind_${v.kind}`),
        commune: this.communeName(v.commune),
        status: this.t(OFFICIALS, `venues.status_${v.status}`),
        national: v.nationalQrAt ? ' · QR QG ✓' : '',
        onSite: v.checkedOnSiteAt ? ' · KT ✓' : '',
      }),
    );
    return `${this.t(OFFICIALS, 'officials.venueList', { count: venues.length })}\n${lines.join('\n')}`;
  }

  officialsText(key: string, vars?: Record<string, unknown>): string {
    return this.t(OFFICIALS, key, vars);
  }

  /** Deletes check-ins past their retention (the daily job). */
  async purgeExpired(now: Date): Promise<number> {
    return this.deps.repo.purgeExpired(now);
  }

  /** The national declaration site from the locality file, or words saying to ask the commune when it is not known. */
  private nationalSite(locale: Locale): string {
    return this.deps.locality.qrCheckin.declarationSite ?? this.t(locale, 'venues.nationalSiteUnknown');
  }

  // ---- the flows' actions ---------------------------------------------------------------------------------

  private async findOwnVenue(ctx: ActionContext): Promise<Venue | null> {
    const id = Number(ctx.answers.venueId);
    const venue = Number.isInteger(id) ? await this.deps.repo.findById(id) : null;
    return venue && venue.ownerChannel === ctx.channel && venue.ownerUserId === ctx.userId && venue.status !== 'rejected' ? venue : null;
  }

  actions(): Record<VenueActionName, Action> {
    return {
      registerVenue: async (ctx) => {
        const a = ctx.answers;
        const now = new Date(ctx.now);
        const own = await this.deps.repo.venuesOfOwner(ctx.channel, ctx.userId);
        if (own.filter((v) => v.createdAt.getTime() > ctx.now - 24 * HOUR).length >= this.settings.registrationsPerDay) return { ok: false, message: 'venues.registerLimited' };
        const commune = String(a.commune);
        const name = String(a.venueName);
        const address = String(a.address);
        const auto = this.autoConfirms(commune);
        const chat = this.noticeChatFor(commune);
        const { venue, created, duplicateOf } = await this.deps.repo.createVenue({
          code: generateVenueCode(),
          name,
          kind: VENUE_KINDS.includes(a.kind as VenueKind) ? (a.kind as VenueKind) : 'other',
          plate: a.kind === 'vehicle' && typeof a.plate === 'string' ? a.plate : null,
          commune,
          address,
          placeKey: placeKey(name, address),
          ownerName: String(a.ownerName),
          ownerPhone: String(a.ownerPhone),
          ownerChannel: ctx.channel,
          ownerUserId: ctx.userId,
          ownerLocale: ctx.locale,
          status: auto ? 'confirmed' : 'pending',
          source: 'owner',
          noticeChatId: chat,
          decidedBy: auto ? 'auto' : null,
          idempotencyKey: `${ctx.channel}:${ctx.eventId}`,
          localDay: this.localDay(now),
          now,
        });
        if (duplicateOf) {
          return { ok: false, message: 'venues.duplicate', vars: { reference: duplicateOf.reference, status: this.t(ctx.locale, `venues.status_${duplicateOf.status}`) } };
        }
        if (created) {
          this.deps.log.info({ venue: venue.reference, commune, kind: venue.kind, status: venue.status, user: userTag(`${ctx.channel}:${ctx.userId}`) }, 'venue registered');
          if (chat) await this.deps.enqueueNotice({ channel: 'telegram', recipient: chat, replies: this.renderNotice(venue), now });
        }
        return {
          ok: true,
          output: { venueId: venue.id, reference: venue.reference, venueCode: venue.code, statusText: this.t(ctx.locale, `venues.status_${venue.status}`) },
        };
      },
      loadMyVenues: async (ctx) => {
        const venues = await this.deps.repo.venuesOfOwner(ctx.channel, ctx.userId);
        if (venues.length === 0) return { ok: false, message: 'venues.noVenues' };
        const list: JsonValue = venues.map((v) => ({ id: String(v.id), label: `${v.name} (${v.reference})` }));
        return { ok: true, output: { myVenues: list, nationalSite: this.nationalSite(ctx.locale), ...(venues.length === 1 ? { venueId: String(venues[0]!.id), venueName: venues[0]!.name } : {}) } };
      },
      sendVenuePoster: async (ctx) => {
        const venue = await this.findOwnVenue(ctx);
        if (!venue) return { ok: false, message: 'venues.noVenues' };
        return { ok: true, output: { venueName: venue.name, venueCode: venue.code, nationalSite: this.nationalSite(ctx.locale) }, replies: this.posterReplies(venue, ctx.locale, ctx.channel) };
      },
      markNationalQr: async (ctx) => {
        const venue = await this.findOwnVenue(ctx);
        if (!venue) return { ok: false, message: 'venues.noVenues' };
        const photo = ctx.answers.nationalPhoto as { fileRef?: string } | null | undefined;
        await this.deps.repo.markNationalQr(venue.id, typeof photo?.fileRef === 'string' ? photo.fileRef : null, new Date(ctx.now));
        return { ok: true, output: { venueName: venue.name } };
      },
      findVenueForCheckin: async (ctx) => {
        const code = String(ctx.answers.venueCode ?? '');
        const venue = code ? await this.deps.repo.findByCode(code) : null;
        if (!venue || venue.status === 'rejected') return { ok: false, message: 'venues.unknownCode', vars: { code } };
        const now = ctx.now;
        const open = await this.deps.repo.openCheckin(ctx.channel, ctx.userId, new Date(now - OPEN_CHECKIN_HOURS * HOUR));
        let state = 'new';
        if (open && open.venueId === venue.id) state = now - open.checkedInAt.getTime() < this.settings.checkoutAfterMinutes * 60_000 ? 'recent' : 'open';
        const visitor = await this.deps.repo.visitor(ctx.channel, ctx.userId);
        return {
          ok: true,
          output: {
            venueId: String(venue.id),
            venueName: venue.name,
            venueCommune: this.communeName(venue.commune),
            checkinState: state,
            ...(open && state !== 'new' ? { openCheckinId: open.id, since: this.formatTime(open.checkedInAt) } : {}),
            visitorKnown: visitor !== null,
            ...(visitor ? { visitorName: visitor.name, visitorPhone: visitor.phone } : {}),
          },
        };
      },
      checkInVenue: async (ctx) => {
        const venue = await this.deps.repo.findById(Number(ctx.answers.venueId));
        if (!venue || venue.status === 'rejected') return { ok: false, message: 'venues.unknownCode', vars: { code: String(ctx.answers.venueCode ?? '') } };
        const now = new Date(ctx.now);
        if ((await this.deps.repo.countCheckins(ctx.channel, ctx.userId, venue.id, new Date(ctx.now - HOUR))) >= this.settings.checkinsPerHour) {
          return { ok: false, message: 'venues.rateLimited' };
        }
        const { checkin } = await this.deps.repo.checkIn({
          venue,
          channel: ctx.channel,
          userId: ctx.userId,
          name: String(ctx.answers.visitorName),
          phone: String(ctx.answers.visitorPhone),
          assistedBy: null,
          locale: ctx.locale,
          idempotencyKey: `${ctx.channel}:${ctx.eventId}`,
          now,
          deleteAfter: new Date(ctx.now + this.settings.checkinRetentionDays * 24 * HOUR),
        });
        return { ok: true, output: { checkinTime: this.formatTime(checkin.checkedInAt) } };
      },
      findOpenCheckin: async (ctx) => {
        const open = await this.deps.repo.openCheckin(ctx.channel, ctx.userId, new Date(ctx.now - OPEN_CHECKIN_HOURS * HOUR));
        if (!open) return { ok: false, message: 'venues.noOpenCheckin' };
        const venue = await this.deps.repo.findById(open.venueId);
        return { ok: true, output: { openCheckinId: open.id, venueName: venue?.name ?? '', since: this.formatTime(open.checkedInAt) } };
      },
      checkOutVenue: async (ctx) => {
        const id = Number(ctx.answers.openCheckinId);
        if (Number.isInteger(id)) await this.deps.repo.checkOut(id, ctx.channel, ctx.userId, new Date(ctx.now));
        return { ok: true, output: { checkoutTime: this.formatTime(new Date(ctx.now)) } };
      },
      assistedCheckin: async (ctx) => {
        const venue = await this.findOwnVenue(ctx);
        if (!venue) return { ok: false, message: 'venues.noVenues' };
        const staff = `${ctx.channel}:${ctx.userId}`;
        if ((await this.deps.repo.countAssisted(staff, venue.id, new Date(ctx.now - HOUR))) >= ASSISTED_PER_HOUR) return { ok: false, message: 'venues.rateLimited' };
        const { checkin } = await this.deps.repo.checkIn({
          venue,
          channel: null,
          userId: null,
          name: String(ctx.answers.guestName),
          phone: String(ctx.answers.guestPhone),
          assistedBy: staff,
          locale: null,
          idempotencyKey: `${ctx.channel}:${ctx.eventId}`,
          now: new Date(ctx.now),
          deleteAfter: new Date(ctx.now + this.settings.checkinRetentionDays * 24 * HOUR),
        });
        return { ok: true, output: { checkinTime: this.formatTime(checkin.checkedInAt), venueName: venue.name } };
      },
    };
  }

  /** The notice an officials' group receives for a new venue: buttons to confirm or reject unless auto-confirmed. */
  renderNotice(venue: Venue): Reply[] {
    const vi = OFFICIALS;
    const text = this.t(vi, venue.status === 'pending' ? 'officials.venueNew' : 'officials.venueAuto', {
      reference: venue.reference,
      name: venue.name,
      kind: this.t(vi, `venues.kind_${venue.kind}`) + (venue.plate ? ` ${venue.plate}` : ''),
      commune: this.communeName(venue.commune),
      address: venue.address,
      owner: venue.ownerName ?? '—',
      phone: venue.ownerPhone ?? '—',
    });
    if (venue.status !== 'pending') return [{ kind: 'text', text }];
    return [
      {
        kind: 'choices',
        text,
        options: [
          { id: `ven:ok:${venue.id}`, label: this.t(vi, 'officials.venueConfirm') },
          { id: `ven:no:${venue.id}`, label: this.t(vi, 'officials.venueReject') },
        ],
      },
    ];
  }
}
