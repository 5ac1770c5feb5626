import { localized } from '../engine/localized';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { BroadcastService } from '../broadcasts/BroadcastService';
import { PROJECT_ROOT } from '../config';
import { buildReportTable, renderReportCsv, renderReportXlsx } from '../campaign/campaignReport';
import type { CampaignFigures } from '../campaign/CampaignFigures';
import { parseDateRange, type DateRange } from '../campaign/figures';
import type { Translator } from '../engine/contracts';
import type { Locale } from '../engine/types';
import type { Locality } from '../locality/localitySchema';
import type { Logger } from '../logger';
import type { InboxService } from '../records/InboxService';
import { communesOf, scopeCovers, type OfficialsScope } from '../records/officialsScope';
import type { RecordKind, RecordStatus, Urgency } from '../records/RecordsRepository';
import type { VenueService } from '../venues/VenueService';
import { AdminAuth, SESSION_HOURS, type AdminIdentity, type AdminSession, type AuditLog } from './AdminAuth';
import {
  accountsPage,
  announcementPage,
  announcementPreviewPage,
  announcementsPage,
  auditPage,
  campaignPage,
  inboxPage,
  linkConfirmPage,
  loginPage,
  messagePage,
  recordPage,
  type AnnouncementDraft,
  type PageContext,
} from './pages';
import { renderBarChart, renderLineChart } from './svgCharts';
import { addVenueRoutes } from './venueRoutes';

export interface AdminRouterDeps {
  auth: AdminAuth;
  audit: AuditLog;
  figures: CampaignFigures;
  inbox: InboxService;
  broadcasts: BroadcastService;
  venues: VenueService;
  locality: Locality;
  i18n: Translator;
  log: Logger;
  clock: () => number;
  /** Formats an instant in the district's time zone ("15/07, 08:00"). */
  formatTime: (d: Date) => string;
}

const SESSION_COOKIE = 'cgb_admin';
const PRE_COOKIE = 'cgb_admin_pre';
const LANG_COOKIE = 'cgb_admin_lang';
const ASSETS = path.join(PROJECT_ROOT, 'src', 'admin', 'public');
const ASSET_TYPES: Record<string, string> = { 'admin.css': 'text/css; charset=utf-8', 'admin.js': 'text/javascript; charset=utf-8' };
/** Failed password sign-ins of one user name allowed per window before the form refuses for a while. */
const MAX_LOGIN_FAILURES = 10;
const LOGIN_FAILURE_WINDOW_MS = 15 * 60_000;
const KINDS: RecordKind[] = ['declaration', 'symptoms', 'entrant'];
const URGENCIES: Urgency[] = ['urgent', 'notice', 'info'];
const STATUSES: RecordStatus[] = ['new', 'acknowledged', 'resolved'];

/** Pages and downloads need no script from elsewhere, no inline script or style, and may not be framed. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

interface AdminLocals {
  session: AdminSession | null;
  sessionId: string | null;
  locale: Locale;
}

function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function setCookie(req: Request, res: Response, name: string, value: string, maxAgeSeconds: number): void {
  // Secure when the request came over https (directly, or through a proxy on this machine: `trust proxy`).
  const secure = req.secure ? '; Secure' : '';
  res.append('Set-Cookie', `${name}=${encodeURIComponent(value)}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`);
}

function sameToken(a: unknown, b: string): boolean {
  if (typeof a !== 'string' || a.length === 0) return false;
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
}

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/**
 * The officials' dashboard under `/admin`: server-rendered pages in Vietnamese first (English by a switch), a small
 * script, no build step. Every page calls the services that the Telegram commands and the HTTP API use; a page holds
 * no business rule. Every page except sign-in needs a session; every form carries the session's CSRF token.
 */
export function createAdminRouter(deps: AdminRouterDeps): Router {
  const router = express.Router();
  const { auth, audit, figures, inbox, broadcasts, locality, i18n } = deps;
  const form = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 200 });
  const communeList = locality.communes.map((c) => ({ id: c.id, name: c.name }));
  const today = () => figures.today(new Date(deps.clock()));

  const locals = (res: Response) => res.locals as AdminLocals;
  const ctxOf = (req: Request, res: Response): PageContext => {
    const l = locals(res);
    return {
      t: (key, vars) => i18n.t(l.locale, `admin.${key}`, vars),
      locale: l.locale,
      identity: l.session?.identity ?? null,
      csrf: l.session?.csrf ?? null,
      communes: communeList,
      district: localized(locality.district, l.locale),
      path: req.originalUrl.split('?')[0]!,
      time: deps.formatTime,
      // The officials' words for triage levels (`officials.level_<code>`); a level without a text shows its code.
      triageLevel: (code) => (i18n.has(l.locale, `officials.level_${code}`) ? i18n.t(l.locale, `officials.level_${code}`) : code),
    };
  };
  const send = (res: Response, status: number, page: string) => res.status(status).type('html').send(page);

  router.use('/admin', async (req, res, next) => {
    res.set({ 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store', 'X-Frame-Options': 'DENY' });
    const jar = cookies(req);
    const l = locals(res);
    l.locale = jar[LANG_COOKIE] === 'en' ? 'en' : 'vi';
    l.sessionId = jar[SESSION_COOKIE] ?? null;
    try {
      l.session = l.sessionId ? await auth.session(l.sessionId) : null;
      next();
    } catch (err) {
      next(err);
    }
  });

  router.get('/admin/assets/:file', (req, res) => {
    const type = ASSET_TYPES[req.params.file];
    if (!type) {
      res.status(404).end();
      return;
    }
    res.set('Cache-Control', 'public, max-age=3600').type(type).send(fs.readFileSync(path.join(ASSETS, req.params.file)));
  });

  router.get('/admin/lang/:lang', (req, res) => {
    setCookie(req, res, LANG_COOKIE, req.params.lang === 'en' ? 'en' : 'vi', 365 * 86400);
    const back = str(req.query.back);
    res.redirect(303, back.startsWith('/admin') && !back.startsWith('//') ? back : '/admin');
  });

  // ---- sign-in ----------------------------------------------------------------------------------------------

  const showLogin = (req: Request, res: Response, status: number, problem: string | null) => {
    const pre = crypto.randomBytes(24).toString('base64url');
    setCookie(req, res, PRE_COOKIE, pre, 3600);
    send(res, status, loginPage(ctxOf(req, res), pre, problem));
  };

  router.get('/admin/login', (req, res) => showLogin(req, res, 200, null));

  router.post('/admin/login', form, async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      if (!sameToken(req.body?._csrf, cookies(req)[PRE_COOKIE] ?? '')) return showLogin(req, res, 403, ctx.t('formExpired'));
      const username = str(req.body.username).toLowerCase().slice(0, 64);
      const subject = `account:${username}`;
      // Guessing is slowed per user name, across processes: the failures are in the audit log.
      const since = new Date(deps.clock() - LOGIN_FAILURE_WINDOW_MS);
      if ((await audit.count('login_failed', subject, since)) >= MAX_LOGIN_FAILURES) return showLogin(req, res, 429, ctx.t('tooManyAttempts'));
      const identity = await auth.checkPassword(username, String(req.body.password ?? ''));
      if (!identity) {
        await audit.write({ id: 'anonymous', name: '-' }, 'login_failed', subject);
        return showLogin(req, res, 401, ctx.t('wrongPassword'));
      }
      await startSession(req, res, identity);
    } catch (err) {
      next(err);
    }
  });

  const startSession = async (req: Request, res: Response, identity: AdminIdentity) => {
    const { sessionId } = await auth.openSession(identity);
    setCookie(req, res, SESSION_COOKIE, sessionId, SESSION_HOURS * 3600);
    deps.log.info({ official: identity.id.startsWith('account:') ? 'account' : 'telegram', scope: identity.scope.kind }, 'dashboard sign-in');
    res.redirect(303, '/admin');
  };

  // The link only shows a button: link previews and scanners that open it use nothing (a person must press it).
  router.get('/admin/l/:token', async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      const state = await auth.checkLoginToken(req.params.token);
      if (state !== 'valid') return send(res, 410, messagePage(ctx, ctx.t('loginTitle'), ctx.t(`link_${state}`), { href: '/admin/login', label: ctx.t('loginTitle') }));
      send(res, 200, linkConfirmPage(ctx, req.params.token));
    } catch (err) {
      next(err);
    }
  });

  router.post('/admin/l/:token', async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      const opened = await auth.redeemLoginToken(req.params.token);
      if (!opened) return send(res, 410, messagePage(ctx, ctx.t('loginTitle'), ctx.t('link_used'), { href: '/admin/login', label: ctx.t('loginTitle') }));
      setCookie(req, res, SESSION_COOKIE, opened.sessionId, SESSION_HOURS * 3600);
      deps.log.info({ official: 'telegram', scope: opened.session.identity.scope.kind }, 'dashboard sign-in');
      res.redirect(303, '/admin');
    } catch (err) {
      next(err);
    }
  });

  // ---- everything below needs a session ----------------------------------------------------------------------

  router.use('/admin', (req, res, next) => {
    if (locals(res).session) return next();
    if (req.path.startsWith('/api/')) {
      res.status(401).json({ error: 'unauthorized', message: 'Sign in first: /dangnhap in an officials\' Telegram group, or /admin/login.' });
      return;
    }
    res.redirect(303, '/admin/login');
  });

  // CSRF: every form posted with a session carries its token.
  router.post('/admin/*path', form, (req, res, next) => {
    if (sameToken(req.body?._csrf, locals(res).session!.csrf)) return next();
    const ctx = ctxOf(req, res);
    send(res, 403, messagePage(ctx, ctx.t('formExpiredTitle'), ctx.t('formExpired'), { href: '/admin', label: ctx.t('navCampaign') }));
  });

  const who = (res: Response) => locals(res).session!.identity;
  const scopeOf = (res: Response) => who(res).scope;

  router.post('/admin/logout', async (req, res, next) => {
    try {
      await auth.closeSession(locals(res).sessionId!);
      setCookie(req, res, SESSION_COOKIE, '', 0);
      res.redirect(303, '/admin/login');
    } catch (err) {
      next(err);
    }
  });

  /** The range of a query, or the problem with it as a sentence. */
  const rangeOf = (req: Request, ctx: PageContext): { range: DateRange; problem: string | null } => {
    const parsed = parseDateRange({ from: req.query.from, to: req.query.to }, today());
    if (parsed.ok) return { range: parsed.range, problem: null };
    return { range: (parseDateRange({}, today()) as { ok: true; range: DateRange }).range, problem: ctx.t(`range_${parsed.problem}`, { field: ctx.t(parsed.field) }) };
  };

  // ---- campaign -----------------------------------------------------------------------------------------------

  const campaign = async (req: Request, res: Response, status: number, fieldProblem: string | null) => {
    const ctx = ctxOf(req, res);
    const { range, problem } = rangeOf(req, ctx);
    const scope = scopeOf(res);
    const [f, entries] = await Promise.all([figures.figures(range, scope), figures.fieldReports(range, scope)]);
    const field = { entries, formKey: crypto.randomUUID(), today: today(), problem: fieldProblem ?? problem, saved: req.query.saved === '1' };
    send(res, problem ? 400 : status, campaignPage(ctx, f, field, figures.reportRange(today())));
  };

  router.get('/admin', async (req, res, next) => {
    try {
      await campaign(req, res, 200, null);
    } catch (err) {
      next(err);
    }
  });

  router.post('/admin/field', async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      const b = req.body as Record<string, unknown>;
      const commune = str(b.commune);
      const day = str(b.day);
      const n = (v: unknown) => (/^\d{1,6}$/.test(str(v)) && Number(v) <= 100_000 ? Number(v) : null);
      const values = [n(b.householdsVisited), n(b.phonesChecked), n(b.installsHelped)];
      const key = str(b.key);
      let problem: string | null = null;
      if (!scopeCovers(scopeOf(res), commune) || !communeList.some((c) => c.id === commune)) problem = ctx.t('fieldWrongCommune');
      else if (!parseDateRange({ from: day, to: day }, today()).ok || day > today()) problem = ctx.t('fieldWrongDay');
      else if (values.some((v) => v === null)) problem = ctx.t('fieldWrongNumber');
      else if (!/^[0-9a-f-]{36}$/.test(key)) problem = ctx.t('formExpired');
      if (problem) return campaign(req, res, 400, problem);
      await figures.addFieldReport({
        commune,
        day,
        householdsVisited: values[0]!,
        phonesChecked: values[1]!,
        installsHelped: values[2]!,
        enteredBy: `${who(res).name} (${who(res).id})`,
        idempotencyKey: `${who(res).id}:${key}`,
        now: new Date(deps.clock()),
      });
      res.redirect(303, '/admin?saved=1#field');
    } catch (err) {
      next(err);
    }
  });

  router.get('/admin/charts/:name', async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      const { range } = rangeOf(req, ctx);
      const f = await figures.figures(range, scopeOf(res));
      let svg;
      if (req.params.name === 'installs.svg') svg = renderBarChart(ctx.t('chartInstalls'), f.communes.map((c) => ({ label: c.name, percent: c.installs.percent, count: c.installs.count })), f.targets.smartphoneUsers, ctx.t('noPercent'));
      else if (req.params.name === 'officials.svg')
        svg = renderBarChart(
          ctx.t('chartOfficials'),
          [...f.communes.map((c) => ({ label: c.name, percent: c.officials.percent, count: c.officials.count })), ...f.agencies.map((a) => ({ label: a.name, percent: a.officials.percent, count: a.officials.count }))],
          f.targets.officials,
          ctx.t('noPercent'),
        );
      else if (req.params.name === 'trend.svg') svg = renderLineChart(ctx.t('chartTrend'), f.trend.map((p) => ({ day: p.day, value: p.installs })));
      else return send(res, 404, messagePage(ctx, ctx.t('notFoundTitle'), ctx.t('notFound')));
      res.type('image/svg+xml').send(`<?xml version="1.0" encoding="UTF-8"?>\n${svg.value}`);
    } catch (err) {
      next(err);
    }
  });

  const report = async (req: Request, res: Response, format: 'csv' | 'xlsx') => {
    const ctx = ctxOf(req, res);
    const { range, problem } = rangeOf(req, ctx);
    if (problem) return send(res, 400, messagePage(ctx, ctx.t('campaignTitle'), problem, { href: '/admin', label: ctx.t('navCampaign') }));
    const scope = scopeOf(res);
    const f = await figures.figures(range, scope);
    const vi = (key: string, vars?: Record<string, unknown>) => i18n.t('vi', `admin.${key}`, vars);
    const table = buildReportTable(f, vi, { district: locality.district.vi, generatedAt: deps.formatTime(new Date(deps.clock())) });
    await audit.write(who(res), `export_${format}`, scope.kind === 'district' ? 'district' : `commune:${scope.commune}`, { from: range.from, to: range.to });
    const name = `bao-cao-bluezone_${scope.kind === 'district' ? locality.id : scope.commune}_${range.from}_${range.to}.${format}`;
    res.attachment(name);
    if (format === 'csv') res.type('text/csv; charset=utf-8').send(renderReportCsv(table));
    else res.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet').send(await renderReportXlsx(table));
  };
  router.get('/admin/report.csv', (req, res, next) => report(req, res, 'csv').catch(next));
  router.get('/admin/report.xlsx', (req, res, next) => report(req, res, 'xlsx').catch(next));

  // ---- inbox --------------------------------------------------------------------------------------------------

  const inboxQuery = (req: Request, res: Response, ctx: PageContext) => {
    const { range, problem } = rangeOf(req, ctx);
    const pick = <T extends string>(v: unknown, allowed: readonly T[]) => (allowed.includes(str(v) as T) ? (str(v) as T) : undefined);
    const commune = pick(req.query.commune, communesOf(scopeOf(res), locality));
    const wantedCommune = str(req.query.commune);
    return {
      problem: wantedCommune && !commune ? ctx.t('notYourCommune') : problem,
      forbidden: Boolean(wantedCommune && !commune),
      filter: {
        commune,
        kind: pick(req.query.kind, KINDS),
        urgency: pick(req.query.urgency, URGENCIES),
        status: pick(req.query.status, STATUSES),
        reference: str(req.query.reference).slice(0, 20) || undefined,
        range,
        limit: 500,
      },
    };
  };

  router.get('/admin/inbox', async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      const { filter, problem, forbidden } = inboxQuery(req, res, ctx);
      const lines = forbidden ? [] : await inbox.list(filter, scopeOf(res));
      const visible = communeList.filter((c) => scopeCovers(scopeOf(res), c.id));
      send(res, problem ? (forbidden ? 403 : 400) : 200, inboxPage(ctx, { ...filter, from: filter.range.from, to: filter.range.to }, lines, visible, problem));
    } catch (err) {
      next(err);
    }
  });

  router.get('/admin/records/:reference', async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      const record = await inbox.find(req.params.reference, scopeOf(res));
      if (!record) return send(res, 404, messagePage(ctx, ctx.t('notFoundTitle'), ctx.t('recordNotFound'), { href: '/admin/inbox', label: ctx.t('navInbox') }));
      await audit.write(who(res), 'view_record', record.reference);
      const message = req.query.done === 'acknowledged' || req.query.done === 'resolved' ? ctx.t(`done_${req.query.done}`) : req.query.done === 'same' ? ctx.t('alreadyDone') : null;
      send(res, 200, recordPage(ctx, record, await inbox.history(record), deps.formatTime, message));
    } catch (err) {
      next(err);
    }
  });

  router.post('/admin/records/:reference/status', async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      const status = str(req.body.status);
      if (status !== 'acknowledged' && status !== 'resolved') return send(res, 400, messagePage(ctx, ctx.t('notFoundTitle'), ctx.t('badStatus')));
      const me = who(res);
      const result = await inbox.changeStatus(req.params.reference, status, { id: me.id, name: me.name }, me.scope);
      if (!result.ok) return send(res, 404, messagePage(ctx, ctx.t('notFoundTitle'), ctx.t('recordNotFound'), { href: '/admin/inbox', label: ctx.t('navInbox') }));
      res.redirect(303, `/admin/records/${encodeURIComponent(result.record.reference)}?done=${result.changed ? status : 'same'}`);
    } catch (err) {
      next(err);
    }
  });

  // ---- announcements --------------------------------------------------------------------------------------------

  const draftOf = (body: Record<string, unknown>, scope: OfficialsScope): { draft: AnnouncementDraft; problem: string | null } => {
    const topic = body.topic === 'urgent' ? 'urgent' : 'news';
    const picked = ([] as unknown[]).concat(body.communes ?? []).map(String);
    const communes = scope.kind === 'commune' ? [scope.commune] : body.all === '1' ? null : picked.filter((id) => communeList.some((c) => c.id === id));
    const draft: AnnouncementDraft = { topic, communes, textVi: str(body.textVi), textEn: str(body.textEn) };
    const t = (k: string, v?: Record<string, unknown>) => i18n.t('vi', `admin.${k}`, v);
    let problem: string | null = null;
    if (communes !== null && communes.length === 0) problem = t('pickCommunes');
    else if (draft.textVi.length < 5 || draft.textVi.length > 3500) problem = t('textLength');
    else if (draft.textEn && (draft.textEn.length < 5 || draft.textEn.length > 3500)) problem = t('textLength');
    return { draft, problem };
  };
  const recentFor = (scope: OfficialsScope) => broadcasts.repo.recentBroadcasts(20, scope.kind === 'commune' ? scope.commune : null);
  const mayWatch = (scope: OfficialsScope, communes: string[] | null) => scope.kind === 'district' || (communes?.length === 1 && communes[0] === scope.commune);

  router.get('/admin/announcements', async (req, res, next) => {
    try {
      const scope = scopeOf(res);
      send(res, 200, announcementsPage(ctxOf(req, res), scope, { topic: 'news', communes: scope.kind === 'commune' ? [scope.commune] : null, textVi: '', textEn: '' }, await recentFor(scope), null));
    } catch (err) {
      next(err);
    }
  });

  router.post('/admin/announcements/edit', async (req, res, next) => {
    try {
      const scope = scopeOf(res);
      send(res, 200, announcementsPage(ctxOf(req, res), scope, draftOf(req.body, scope).draft, await recentFor(scope), null));
    } catch (err) {
      next(err);
    }
  });

  router.post('/admin/announcements/preview', async (req, res, next) => {
    try {
      const scope = scopeOf(res);
      const ctx = ctxOf(req, res);
      const { draft, problem } = draftOf(req.body, scope);
      if (problem) return send(res, 400, announcementsPage(ctx, scope, draft, await recentFor(scope), problem));
      const { counts, texts } = await broadcasts.previewDraft({ topic: draft.topic, textVi: draft.textVi, textEn: draft.textEn || null, communes: draft.communes });
      send(res, 200, announcementPreviewPage(ctx, scope, draft, counts, texts));
    } catch (err) {
      next(err);
    }
  });

  router.post('/admin/announcements', async (req, res, next) => {
    try {
      const scope = scopeOf(res);
      const { draft, problem } = draftOf(req.body, scope);
      if (problem) return send(res, 400, announcementsPage(ctxOf(req, res), scope, draft, await recentFor(scope), problem));
      const me = who(res);
      const b = await broadcasts.create({ topic: draft.topic, textVi: draft.textVi, textEn: draft.textEn || null, communes: draft.communes, createdBy: `dashboard:${me.id}`, originChatId: null });
      await audit.write(me, 'broadcast', `broadcast:${b.id}`, { total: b.total });
      res.redirect(303, `/admin/announcements/${b.id}`);
    } catch (err) {
      next(err);
    }
  });

  router.get('/admin/announcements/:id', async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      const b = /^\d{1,9}$/.test(req.params.id) ? await broadcasts.repo.findBroadcast(Number(req.params.id)) : null;
      if (!b || !mayWatch(scopeOf(res), b.communes)) return send(res, 404, messagePage(ctx, ctx.t('notFoundTitle'), ctx.t('notFound'), { href: '/admin/announcements', label: ctx.t('navAnnouncements') }));
      send(res, 200, announcementPage(ctx, b, await broadcasts.progress(b), true));
    } catch (err) {
      next(err);
    }
  });

  router.post('/admin/announcements/:id/cancel', async (req, res, next) => {
    try {
      const b = /^\d{1,9}$/.test(req.params.id) ? await broadcasts.repo.findBroadcast(Number(req.params.id)) : null;
      if (b && mayWatch(scopeOf(res), b.communes)) await broadcasts.cancel(b.id);
      res.redirect(303, `/admin/announcements/${req.params.id}`);
    } catch (err) {
      next(err);
    }
  });

  // ---- venues ----------------------------------------------------------------------------------------------------

  addVenueRoutes(router, { venues: deps.venues, audit, locality, i18n, clock: deps.clock, ctxOf, who, send });

  // ---- district only: accounts and the audit log ---------------------------------------------------------------

  const districtOnly = (req: Request, res: Response, next: NextFunction) => {
    if (scopeOf(res).kind === 'district') return next();
    const ctx = ctxOf(req, res);
    send(res, 403, messagePage(ctx, ctx.t('districtOnlyTitle'), ctx.t('districtOnly'), { href: '/admin', label: ctx.t('navCampaign') }));
  };

  router.get('/admin/accounts', districtOnly, async (req, res, next) => {
    try {
      send(res, 200, accountsPage(ctxOf(req, res), await auth.accounts(), null, str(req.query.created) || null));
    } catch (err) {
      next(err);
    }
  });

  router.post('/admin/accounts', districtOnly, async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      const username = str(req.body.username).toLowerCase();
      const name = str(req.body.name);
      const password = String(req.body.password ?? '');
      const scopeText = str(req.body.scope);
      const scope: OfficialsScope | null =
        scopeText === 'district' ? { kind: 'district' } : scopeText.startsWith('commune:') && communeList.some((c) => `commune:${c.id}` === scopeText) ? { kind: 'commune', commune: scopeText.slice(8) } : null;
      let problem: string | null = null;
      if (!/^[a-z0-9._-]{3,32}$/.test(username)) problem = ctx.t('badUsername');
      else if (name.length < 2 || name.length > 100) problem = ctx.t('badName');
      else if (password.length < 10 || password.length > 200) problem = ctx.t('badPassword');
      else if (!scope) problem = ctx.t('badRole');
      else if (!(await auth.createAccount({ username, name, scope, password, createdBy: `${who(res).name} (${who(res).id})` }))) problem = ctx.t('usernameTaken');
      if (problem) return send(res, 400, accountsPage(ctx, await auth.accounts(), problem, null));
      await audit.write(who(res), 'create_account', `account:${username}`, { scope: scope!.kind === 'district' ? 'district' : scope!.commune });
      res.redirect(303, `/admin/accounts?created=${encodeURIComponent(username)}`);
    } catch (err) {
      next(err);
    }
  });

  router.post('/admin/accounts/:username/disable', districtOnly, async (req, res, next) => {
    try {
      const username = String(req.params.username);
      await auth.disableAccount(username);
      await audit.write(who(res), 'disable_account', `account:${username}`);
      res.redirect(303, '/admin/accounts');
    } catch (err) {
      next(err);
    }
  });

  router.get('/admin/audit', districtOnly, async (req, res, next) => {
    try {
      send(res, 200, auditPage(ctxOf(req, res), await audit.recent(), deps.formatTime));
    } catch (err) {
      next(err);
    }
  });

  // ---- JSON, for the district's own tools (same session and scope as the pages) ---------------------------------

  router.get('/admin/api/figures', async (req, res, next) => {
    try {
      const parsed = parseDateRange({ from: req.query.from, to: req.query.to }, today());
      if (!parsed.ok) {
        res.status(400).json({ error: 'invalid_range', field: parsed.field, problem: parsed.problem, message: 'from and to are dates YYYY-MM-DD, from <= to, at most 366 days apart' });
        return;
      }
      res.json(await figures.figures(parsed.range, scopeOf(res)));
    } catch (err) {
      next(err);
    }
  });

  router.get('/admin/api/records', async (req, res, next) => {
    try {
      const ctx = ctxOf(req, res);
      const { filter, forbidden } = inboxQuery(req, res, ctx);
      if (forbidden) {
        res.status(403).json({ error: 'forbidden', message: 'That commune is outside your scope.' });
        return;
      }
      res.json({ records: await inbox.list(filter, scopeOf(res)) });
    } catch (err) {
      next(err);
    }
  });

  router.get('/admin/api/records/:reference', async (req, res, next) => {
    try {
      const record = await inbox.find(req.params.reference, scopeOf(res));
      if (!record) {
        res.status(404).json({ error: 'not_found' });
        return;
      }
      await audit.write(who(res), 'view_record', record.reference, { via: 'api' });
      res.json({ record, history: await inbox.history(record) });
    } catch (err) {
      next(err);
    }
  });

  router.use('/admin', (req, res) => {
    const ctx = ctxOf(req, res);
    send(res, 404, messagePage(ctx, ctx.t('notFoundTitle'), ctx.t('notFound'), { href: '/admin', label: ctx.t('navCampaign') }));
  });

  return router;
}
