import crypto from 'node:crypto';
import type { NextFunction, Request, Response, Router } from 'express';
import { zoneOffsetMinutes } from '../campaign/figures';
import type { Translator } from '../engine/contracts';
import type { Locale } from '../engine/types';
import type { Locality } from '../locality/localitySchema';
import { communesOf, type OfficialsScope } from '../records/officialsScope';
import { VALIDATORS } from '../validators';
import { VENUE_VALIDATORS } from '../venues/venueCodes';
import { VENUE_KINDS, type Venue, type VenueKind, type VenueStatus } from '../venues/VenueRepository';
import type { OutcomeFailure, VenueScope, VenueService } from '../venues/VenueService';
import type { AdminIdentity, AuditLog } from './AdminAuth';
import { messagePage, type PageContext } from './pages';
import { notifiedPage, venuePage, venuesPage, visitorsPage, type LocalWindow } from './venuePages';

export interface VenueRoutesDeps {
  venues: VenueService;
  audit: AuditLog;
  locality: Locality;
  i18n: Translator;
  clock: () => number;
  ctxOf: (req: Request, res: Response) => PageContext;
  who: (res: Response) => AdminIdentity;
  send: (res: Response, status: number, page: string) => void;
}

const LOCAL = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;
const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** A local date and time typed in a form (`2021-07-15T08:00`, the district's zone) as an instant; null when malformed. */
export function parseLocalDateTime(text: string, timeZone: string): Date | null {
  if (!LOCAL.test(text)) return null;
  const naive = Date.parse(`${text}:00Z`);
  if (Number.isNaN(naive) || new Date(naive).toISOString().slice(0, 16) !== text) return null;
  return new Date(naive - zoneOffsetMinutes(timeZone, new Date(naive)) * 60_000);
}

/** An instant as the form shows it: local date and time in the district's zone. */
export function formatLocalDateTime(at: Date, timeZone: string): string {
  return new Date(at.getTime() + zoneOffsetMinutes(timeZone, at) * 60_000).toISOString().slice(0, 16);
}

function venueScope(scope: OfficialsScope, who: AdminIdentity): VenueScope {
  return { communes: scope.kind === 'district' ? 'all' : [scope.commune], actor: { id: who.id, name: who.name } };
}

/**
 * The venues pages of the dashboard, on the admin router after its sign-in and CSRF checks: the list per commune with
 * status, confirm or reject (the same as the group's buttons), a venue found in the field, the on-site check, and
 * tracing (visitors in a window, CSV export, notifying them). Every call goes through VenueService with the official's
 * scope; the service writes views, exports, notices and decisions to the dashboard's audit log.
 */
export function addVenueRoutes(router: Router, deps: VenueRoutesDeps): void {
  const { venues, locality, ctxOf, who, send } = deps;
  /** A handler whose failure goes to the app's error boundary. */
  const guarded = (handle: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: NextFunction) => {
    handle(req, res).catch(next);
  };
  const timeZone = locality.records.timezone;
  const scopeOf = (res: Response) => venueScope(who(res).scope, who(res));
  const words = (locale: Locale) => (key: string) => deps.i18n.t(locale, `venues.${key}`);
  const visibleCommunes = (res: Response) => {
    const ids = communesOf(who(res).scope, locality);
    return locality.communes.filter((c) => ids.includes(c.id)).map((c) => ({ id: c.id, name: c.name }));
  };
  const notFound = (req: Request, res: Response) => {
    const ctx = ctxOf(req, res);
    send(res, 404, messagePage(ctx, ctx.t('notFoundTitle'), ctx.t('venues.notFound'), { href: '/admin/venues', label: ctx.t('venues.title') }));
  };
  /** The venue of the path within the official's scope; a venue of another commune does not exist for them. */
  const venueOf = async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const venue = /^\d{1,9}$/.test(id) ? await venues.get(scopeOf(res), Number(id)) : null;
    if (!venue) notFound(req, res);
    return venue;
  };
  const windowOf = (req: Request, source: Record<string, unknown>): { ok: true; local: LocalWindow; from: Date; to: Date } | { ok: false; local: LocalWindow; problem: string } => {
    const ctx = ctxOf(req, req.res!);
    const local = { from: str(source.from), to: str(source.to) };
    const from = parseLocalDateTime(local.from, timeZone);
    const to = parseLocalDateTime(local.to, timeZone);
    if (!from || !to) return { ok: false, local, problem: ctx.t('venues.windowFormat') };
    if (!(from < to)) return { ok: false, local, problem: ctx.t('venues.windowOrder') };
    if (to.getTime() - from.getTime() > locality.venues.checkinRetentionDays * DAY_MS) return { ok: false, local, problem: ctx.t('venues.windowLength', { days: locality.venues.checkinRetentionDays }) };
    return { ok: true, local, from, to };
  };
  const defaultWindow = (): LocalWindow => {
    const now = new Date(deps.clock());
    return { from: formatLocalDateTime(new Date(now.getTime() - DAY_MS), timeZone), to: formatLocalDateTime(now, timeZone) };
  };
  const failed = (req: Request, res: Response, f: OutcomeFailure) => {
    if (f.error !== 'invalid') return notFound(req, res);
    const ctx = ctxOf(req, res);
    send(res, 400, messagePage(ctx, ctx.t('venues.title'), f.message, { href: '/admin/venues', label: ctx.t('venues.title') }));
  };

  const showVenue = (req: Request, res: Response, status: number, venue: Venue, window: LocalWindow, message: string | null, problem: string | null) => {
    const ctx = ctxOf(req, res);
    send(res, status, venuePage(ctx, words(ctx.locale), venue, { checkin: venues.checkinLink(venue.code), pdf: venues.posterUrls(venue.code).pdf }, window, message, problem));
  };

  const list = async (req: Request, res: Response, status: number, problem: string | null, draft: Record<string, string>) => {
    const ctx = ctxOf(req, res);
    const communes = visibleCommunes(res);
    const pick = <T extends string>(v: unknown, allowed: readonly T[]) => (allowed.includes(str(v) as T) ? (str(v) as T) : undefined);
    const commune = pick(req.query.commune, communes.map((c) => c.id));
    if (str(req.query.commune) && !commune) problem ??= ctx.t('notYourCommune');
    const filter = { commune, status: pick<VenueStatus>(req.query.status, ['pending', 'confirmed', 'rejected']), kind: pick<VenueKind>(req.query.kind, VENUE_KINDS) };
    const scope = scopeOf(res);
    const inScope = commune ? { ...scope, communes: [commune] } : scope;
    const [list, figures] = await Promise.all([venues.list(inScope, filter), venues.figures(scope)]);
    const added = str(req.query.added);
    const message = added ? ctx.t(req.query.duplicate === '1' ? 'venues.addedDuplicate' : 'venues.added', { reference: added }) : null;
    send(res, problem ? Math.max(status, 400) : status, venuesPage(ctx, words(ctx.locale), { venues: list, filter, communes, figures, kinds: VENUE_KINDS, formKey: crypto.randomUUID(), problem, message, draft }));
  };

  router.get('/admin/venues', guarded(async (req, res) => {
    await list(req, res, 200, null, {});
  }));

  router.post('/admin/venues', guarded(async (req, res) => {
    const ctx = ctxOf(req, res);
    const b = req.body as Record<string, unknown>;
    const draft = Object.fromEntries(['name', 'kind', 'plate', 'commune', 'address', 'ownerName', 'ownerPhone'].map((k) => [k, str(b[k])]));
    const vctx = { locale: ctx.locale, now: deps.clock() };
    const checks = [
      VENUE_VALIDATORS.venueName!(draft.name!, vctx),
      VENUE_VALIDATORS.venueAddress!(draft.address!, vctx),
      draft.plate ? VENUE_VALIDATORS.plateVN!(draft.plate, vctx) : ({ ok: true, value: null } as const),
      draft.ownerName ? VALIDATORS.fullName!(draft.ownerName, vctx) : ({ ok: true, value: null } as const),
      draft.ownerPhone ? VALIDATORS.phoneVN!(draft.ownerPhone, vctx) : ({ ok: true, value: null } as const),
    ];
    const bad = checks.find((c) => !c.ok);
    const kind = VENUE_KINDS.find((k) => k === draft.kind);
    const key = str(b.key);
    let problem: string | null = null;
    if (bad && !bad.ok) problem = deps.i18n.t(ctx.locale, bad.error, bad.vars);
    else if (!kind) problem = ctx.t('venues.badKind');
    else if (!visibleCommunes(res).some((c) => c.id === draft.commune)) problem = ctx.t('fieldWrongCommune');
    else if (!/^[0-9a-f-]{36}$/.test(key)) problem = ctx.t('formExpired');
    if (problem) return list(req, res, 400, problem, draft);
    const value = (i: number) => (checks[i]!.ok ? (checks[i] as { value: unknown }).value : null) as string | null;
    const result = await venues.add(scopeOf(res), {
      name: value(0)!,
      kind: kind!,
      plate: kind === 'vehicle' ? value(2) : null,
      commune: draft.commune!,
      address: value(1)!,
      ownerName: value(3),
      ownerPhone: value(4),
      requestId: `${who(res).id}:${key}`,
    });
    if (!result.ok) return list(req, res, 400, result.message, draft);
    res.redirect(303, `/admin/venues?added=${encodeURIComponent(result.venue.reference)}${result.duplicate ? '&duplicate=1' : ''}#venues`);
  }));

  router.get('/admin/venues/:id', guarded(async (req, res) => {
    const venue = await venueOf(req, res);
    if (!venue) return;
    const ctx = ctxOf(req, res);
    // The owner's name and phone are personal data: their view is in the audit log like a record's.
    if (venue.ownerName || venue.ownerPhone) await deps.audit.write(who(res), 'venue_view', `venue:${venue.reference}`);
    const done = str(req.query.done);
    const message = ['confirmed', 'rejected', 'same', 'checked'].includes(done) ? ctx.t(`venues.done_${done}`) : null;
    showVenue(req, res, 200, venue, defaultWindow(), message, null);
  }));

  router.post('/admin/venues/:id/decide', guarded(async (req, res) => {
    const status = str(req.body.status);
    if (status !== 'confirmed' && status !== 'rejected') return notFound(req, res);
    const venue = await venueOf(req, res);
    if (!venue) return;
    const result = await venues.decide(scopeOf(res), venue.id, status);
    if (!result.ok) return failed(req, res, result);
    res.redirect(303, `/admin/venues/${venue.id}?done=${result.changed ? status : 'same'}`);
  }));

  router.post('/admin/venues/:id/checked', guarded(async (req, res) => {
    const venue = await venueOf(req, res);
    if (!venue) return;
    const result = await venues.markCheckedOnSite(scopeOf(res), venue.id);
    if (!result.ok) return failed(req, res, result);
    res.redirect(303, `/admin/venues/${venue.id}?done=checked`);
  }));

  router.get('/admin/venues/:id/visitors', guarded(async (req, res) => {
    const venue = await venueOf(req, res);
    if (!venue) return;
    const window = windowOf(req, req.query as Record<string, unknown>);
    if (!window.ok) return showVenue(req, res, 400, venue, window.local, null, window.problem);
    const result = await venues.trace(scopeOf(res), venue.id, window.from, window.to);
    if (!result.ok) return failed(req, res, result);
    send(res, 200, visitorsPage(ctxOf(req, res), result.venue, window.local, result.visitors));
  }));

  router.get('/admin/venues/:id/visitors.csv', guarded(async (req, res) => {
    const venue = await venueOf(req, res);
    if (!venue) return;
    const window = windowOf(req, req.query as Record<string, unknown>);
    if (!window.ok) {
      const ctx = ctxOf(req, res);
      return send(res, 400, messagePage(ctx, ctx.t('venues.traceTitle'), window.problem, { href: `/admin/venues/${venue.id}`, label: venue.name }));
    }
    const result = await venues.exportCsv(scopeOf(res), venue.id, window.from, window.to);
    if (!result.ok) return failed(req, res, result);
    res.attachment(result.fileName).type('text/csv; charset=utf-8').send(result.csv);
  }));

  router.post('/admin/venues/:id/notify', guarded(async (req, res) => {
    const venue = await venueOf(req, res);
    if (!venue) return;
    const window = windowOf(req, req.body as Record<string, unknown>);
    if (!window.ok) return showVenue(req, res, 400, venue, window.local, null, window.problem);
    const message = str(req.body.message).slice(0, 500);
    const result = await venues.notifyVisitors(scopeOf(res), venue.id, window.from, window.to, message || null);
    if (!result.ok) return failed(req, res, result);
    send(res, 200, notifiedPage(ctxOf(req, res), venue, result));
  }));
}
