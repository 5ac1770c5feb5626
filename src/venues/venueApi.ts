import { formatZodIssues } from '../errors';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { tokenMatches } from '../broadcasts/broadcastApi';
import type { Translator } from '../engine/contracts';
import type { Locality } from '../locality/localitySchema';
import { VENUE_CODE_ALPHABET, VENUE_CODE_LENGTH } from './venueCodes';
import { VENUE_KINDS } from './VenueRepository';
import type { VenueScope, VenueService } from './VenueService';

const CODE = new RegExp(`^[${VENUE_CODE_ALPHABET}]{${VENUE_CODE_LENGTH}}$`);
/** Zalo's in-app browser names itself in its user agent ("... Zalo android/..., ZaloTheme/..."): seen in the field, not documented. */
const ZALO_BROWSER = /\bZalo/i;

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Public routes of venues (no personal data):
 * - `GET /v/:code`: what a poster's QR code opens. A small page offering to check in on the web chat, in Telegram
 *   (deep link) or in Zalo (the OA, with the code to send); an unknown code gets a clear page and a 404.
 * - `GET /venues/poster/:code.pdf` and `.png`: the poster, for the chats to send and the owner to print.
 */
export function createVenuePublicRouter(service: VenueService, i18n: Translator): Router {
  const router = express.Router();
  const t = (key: string, vars?: Record<string, unknown>) => i18n.t('vi', key, vars);
  /**
   * The page is in Vietnamese and, under it, in the visitor's own language when the texts have it (their browser's
   * Accept-Language), else English: a visitor from elsewhere reads the venue's texts in a language they know.
   */
  const secondLanguage = (req: Request) => {
    const wanted = (req.get('accept-language') ?? '').split(',').map((part) => part.split(';')[0]!.trim().toLowerCase().split('-')[0]!);
    return wanted.find((l) => l !== 'vi' && i18n.locales.includes(l)) ?? 'en';
  };

  const page = (res: Response, status: number, title: string, body: string) => {
    res
      .status(status)
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(
        `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>` +
          `<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:1rem auto;padding:0 1rem;line-height:1.4}a.b{display:block;margin:.6rem 0;padding:.9rem;border-radius:.5rem;background:#0a5;color:#fff;text-align:center;text-decoration:none;font-size:1.1rem}a.b.alt{background:#246}.en{color:#555;font-size:.9rem}code{font-size:1.2rem}</style>` +
          `</head><body>${body}</body></html>`,
      );
  };

  router.get('/v/:code', async (req, res, next) => {
    try {
      const other = secondLanguage(req);
      const en = (key: string, vars?: Record<string, unknown>) => i18n.t(other, key, vars);
      const code = String(req.params.code).toUpperCase();
      const venue = CODE.test(code) ? await service.repo.findByCode(code) : null;
      if (!venue || venue.status === 'rejected') {
        page(res, 404, t('venues.page.unknownTitle'), `<h1>${escapeHtml(t('venues.page.unknownTitle'))}</h1><p>${escapeHtml(t('venues.page.unknown'))}</p><p class="en" lang="${escapeHtml(other)}">${escapeHtml(en('venues.page.unknown'))}</p>`);
        return;
      }
      const vars = { name: venue.name, commune: service.communeName(venue.commune), code: venue.code };
      const telegram = service.telegramCheckinLink(venue.code);
      const zalo = service.zaloCheckinLink(venue.code);
      // Scanned with Zalo's own scanner, the page opens in Zalo's browser: straight on to the OA chat on this venue's
      // check-in, when the configured link carries it (the chat still asks for the tap that checks in).
      if (zalo?.carriesCode && ZALO_BROWSER.test(req.get('user-agent') ?? '')) {
        res.set('Cache-Control', 'no-store').redirect(302, zalo.url);
        return;
      }
      const links = [
        `<a class="b" href="${escapeHtml(service.webCheckinLink(venue.code))}">${escapeHtml(t('venues.page.web'))}<br><span class="en" lang="${escapeHtml(other)}">${escapeHtml(en('venues.page.web'))}</span></a>`,
        telegram ? `<a class="b alt" href="${escapeHtml(telegram)}">${escapeHtml(t('venues.page.telegram'))}</a>` : '',
        zalo
          ? `<a class="b alt" href="${escapeHtml(zalo.url)}">${escapeHtml(t('venues.page.zalo'))}</a><p>${escapeHtml(t(zalo.carriesCode ? 'venues.page.zaloFallback' : 'venues.page.zaloHow', vars))}<br><span class="en" lang="${escapeHtml(other)}">${escapeHtml(en(zalo.carriesCode ? 'venues.page.zaloFallback' : 'venues.page.zaloHow', vars))}</span></p>`
          : '',
      ];
      page(
        res,
        200,
        t('venues.page.title', vars),
        `<h1>${escapeHtml(venue.name)}</h1><p>${escapeHtml(t('venues.page.intro', vars))}<br><span class="en" lang="${escapeHtml(other)}">${escapeHtml(en('venues.page.intro', vars))}</span></p>${links.join('')}<p><code>${escapeHtml(venue.code)}</code></p>`,
      );
    } catch (err) {
      next(err);
    }
  });

  router.get('/venues/poster/:file', async (req, res, next) => {
    try {
      const m = /^([A-Za-z0-9]{8})\.(pdf|png)$/.exec(String(req.params.file));
      const code = m?.[1]?.toUpperCase();
      const poster = code && CODE.test(code) ? await service.poster(code) : null;
      if (!m || !poster) {
        res.status(404).json({ error: 'not_found', message: 'No venue has this code.' });
        return;
      }
      const pdf = m[2] === 'pdf';
      res
        .status(200)
        .type(pdf ? 'application/pdf' : 'image/png')
        .set('Content-Disposition', `${pdf ? 'attachment' : 'inline'}; filename="ma-qr-${poster.venue.code}.${m[2]}"`)
        .set('Cache-Control', 'public, max-age=300')
        .send(pdf ? poster.pdf : poster.png);
    } catch (err) {
      next(err);
    }
  });
  return router;
}

const dateTime = z.coerce.date({ message: 'expected a date and time, e.g. 2026-11-30T08:00:00+07:00' });
const windowSchema = z.object({ from: dateTime, to: dateTime });
const addSchema = z
  .object({
    name: z.string().trim().min(2).max(120),
    kind: z.enum(VENUE_KINDS),
    plate: z.string().trim().max(20).nullable().optional(),
    commune: z.string(),
    address: z.string().trim().min(3).max(200),
    ownerName: z.string().trim().max(80).nullable().optional(),
    ownerPhone: z.string().trim().max(20).nullable().optional(),
    /** The caller's id of this request: a repeated request adds nothing. */
    requestId: z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, { message: 'expected 6-64 letters, digits, _ or -' }),
  })
  .strict();
const notifySchema = z.object({ from: dateTime, to: dateTime, message: z.string().trim().max(500).optional() }).strict();

function problems(error: z.ZodError): string[] {
  return formatZodIssues(error.issues);
}

/**
 * The venues API for the district's systems and the dashboard, under `/api/venues`, with
 * `Authorization: Bearer <ADMIN_TOKEN>` and an explicit scope on every call: `?commune=<id>` (one commune's
 * officials) or `?commune=all` (the district). The caller names who acts in `X-Requested-By` (audit log).
 * - `GET /api/venues?commune=&status=&kind=` · `GET /api/venues/figures?commune=`
 * - `POST /api/venues?commune=` (a venue found in the field) · `POST /api/venues/:id/confirm|reject?commune=`
 * - `POST /api/venues/:id/checked-on-site?commune=` (an official checked the place)
 * - `GET /api/venues/:id/visitors?commune=&from=&to=` (JSON) and `/visitors.csv` (export)
 * - `POST /api/venues/:id/notify?commune=` `{from, to, message?}`
 */
export function createVenueApi(service: VenueService, adminToken: string | undefined, locality: Locality): Router {
  const router = express.Router();
  const communeIds = locality.communes.map((c) => c.id);

  router.use('/api/venues', (req, res, next) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!adminToken) {
      res.status(401).json({ error: 'unauthorized', message: 'The venues API is off: set ADMIN_TOKEN on the server to enable it.' });
      return;
    }
    if (!m || !tokenMatches(m[1]!, adminToken)) {
      res.status(401).json({ error: 'unauthorized', message: 'Send the header "Authorization: Bearer <ADMIN_TOKEN>".' });
      return;
    }
    next();
  });

  const scopeOf = (req: Request, res: Response): VenueScope | null => {
    const commune = typeof req.query.commune === 'string' ? req.query.commune : '';
    const caller = (req.get('x-requested-by') ?? 'api').slice(0, 100);
    const actor = { id: `api:${caller}`, name: caller };
    if (commune === 'all') return { communes: 'all', actor };
    if (communeIds.includes(commune)) return { communes: [commune], actor };
    res.status(400).json({ error: 'invalid_scope', problems: [`commune: expected a commune id (${communeIds.join(', ')}) or "all" for the district (got "${commune}")`] });
    return null;
  };
  const idOf = (req: Request, res: Response): number | null => {
    const id = String(req.params.id);
    if (/^\d{1,10}$/.test(id)) return Number(id);
    res.status(404).json({ error: 'not_found' });
    return null;
  };
  const fail = (res: Response, f: { error: 'not-found' | 'out-of-scope' | 'invalid'; message: string }) => {
    // Out of scope answers like not found: a venue id says nothing about another commune.
    if (f.error === 'invalid') res.status(400).json({ error: 'invalid', problems: [f.message] });
    else res.status(404).json({ error: 'not_found' });
  };
  const present = (v: Awaited<ReturnType<VenueService['list']>>[number]) => ({
    id: v.id,
    reference: v.reference,
    code: v.code,
    name: v.name,
    kind: v.kind,
    plate: v.plate,
    commune: v.commune,
    address: v.address,
    ownerName: v.ownerName,
    ownerPhone: v.ownerPhone,
    status: v.status,
    source: v.source,
    nationalQr: v.nationalQrAt !== null,
    checkedOnSite: v.checkedOnSiteAt !== null,
    createdAt: v.createdAt,
    checkinLink: service.checkinLink(v.code),
    poster: service.posterUrls(v.code),
  });

  router.get('/api/venues', async (req, res, next) => {
    const scope = scopeOf(req, res);
    if (!scope) return;
    const status = ['pending', 'confirmed', 'rejected'].find((s) => s === req.query.status) as 'pending' | 'confirmed' | 'rejected' | undefined;
    const kind = VENUE_KINDS.find((k) => k === req.query.kind);
    try {
      res.json({ venues: (await service.list(scope, { status, kind })).map(present) });
    } catch (err) {
      next(err);
    }
  });

  router.get('/api/venues/figures', async (req, res, next) => {
    const scope = scopeOf(req, res);
    if (!scope) return;
    try {
      res.json({ figures: await service.figures(scope) });
    } catch (err) {
      next(err);
    }
  });

  router.post('/api/venues', express.json({ limit: '16kb' }), async (req, res, next) => {
    const scope = scopeOf(req, res);
    if (!scope) return;
    const parsed = addSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid_body', problems: problems(parsed.error) });
      return;
    }
    try {
      const result = await service.add(scope, parsed.data);
      if (!result.ok) {
        if (result.error === 'out-of-scope') res.status(403).json({ error: 'out_of_scope', problems: [result.message] });
        else fail(res, result);
        return;
      }
      res.status(result.created ? 201 : result.duplicate ? 409 : 200).json({ venue: present(result.venue), duplicate: result.duplicate });
    } catch (err) {
      next(err);
    }
  });

  for (const [action, status] of [
    ['confirm', 'confirmed'],
    ['reject', 'rejected'],
  ] as const) {
    router.post(`/api/venues/:id/${action}`, async (req, res, next) => {
      const scope = scopeOf(req, res);
      const id = scope && idOf(req, res);
      if (!scope || id === null) return;
      try {
        const result = await service.decide(scope, id, status);
        if (!result.ok) fail(res, result);
        else res.json({ venue: present(result.venue), changed: result.changed });
      } catch (err) {
        next(err);
      }
    });
  }

  router.post('/api/venues/:id/checked-on-site', async (req, res, next) => {
    const scope = scopeOf(req, res);
    const id = scope && idOf(req, res);
    if (!scope || id === null) return;
    try {
      const result = await service.markCheckedOnSite(scope, id);
      if (!result.ok) fail(res, result);
      else res.json({ venue: present(result.venue) });
    } catch (err) {
      next(err);
    }
  });

  const windowOf = (req: Request, res: Response) => {
    const parsed = windowSchema.safeParse(req.query);
    if (!parsed.success) res.status(400).json({ error: 'invalid_window', problems: problems(parsed.error) });
    return parsed.success ? parsed.data : null;
  };

  router.get('/api/venues/:id/visitors', async (req, res, next) => {
    const scope = scopeOf(req, res);
    const id = scope && idOf(req, res);
    const window = id !== null && scope ? windowOf(req, res) : null;
    if (!scope || id === null || !window) return;
    try {
      const result = await service.trace(scope, id, window.from, window.to);
      if (!result.ok) return fail(res, result);
      res.set('Cache-Control', 'no-store').json({
        venue: present(result.venue),
        visitors: result.visitors.map((c) => ({ name: c.name, phone: c.phone, checkedInAt: c.checkedInAt, checkedOutAt: c.checkedOutAt, assisted: c.assistedBy !== null })),
      });
    } catch (err) {
      next(err);
    }
  });

  router.get('/api/venues/:id/visitors.csv', async (req, res, next) => {
    const scope = scopeOf(req, res);
    const id = scope && idOf(req, res);
    const window = id !== null && scope ? windowOf(req, res) : null;
    if (!scope || id === null || !window) return;
    try {
      const result = await service.exportCsv(scope, id, window.from, window.to);
      if (!result.ok) return fail(res, result);
      res.status(200).type('text/csv; charset=utf-8').set('Cache-Control', 'no-store').set('Content-Disposition', `attachment; filename="${result.fileName}"`).send(result.csv);
    } catch (err) {
      next(err);
    }
  });

  router.post('/api/venues/:id/notify', express.json({ limit: '16kb' }), async (req, res, next) => {
    const scope = scopeOf(req, res);
    const id = scope && idOf(req, res);
    if (!scope || id === null) return;
    const parsed = notifySchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid_body', problems: problems(parsed.error) });
      return;
    }
    try {
      const result = await service.notifyVisitors(scope, id, parsed.data.from, parsed.data.to, parsed.data.message ?? null);
      if (!result.ok) return fail(res, result);
      res.json({ notified: result.notified, callByPhone: result.byPhone });
    } catch (err) {
      next(err);
    }
  });
  return router;
}

