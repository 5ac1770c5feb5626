import crypto from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { BroadcastService } from './BroadcastService';
import { cleanText } from '../safety/cleanText';
import { formatZodIssues } from '../errors';

/** Text without NUL or lone surrogates (the database refuses them), then checked as `schema`. */
const cleaned = (schema: z.ZodString) => z.string().transform(cleanText).pipe(schema);

const bodySchema = z
  .object({
    text: z.object({ vi: cleaned(z.string().trim().min(5).max(3500)), en: cleaned(z.string().trim().min(5).max(3500)).optional() }).strict(),
    topic: z.enum(['urgent', 'news']).default('news'),
    /** Commune ids from the locality file, or "all". */
    communes: z.union([z.literal('all'), z.array(z.string()).min(1)]),
    /** Who asked (for the audit trail), e.g. the district system's user name. */
    requestedBy: cleaned(z.string().trim().min(1).max(100)).default('api'),
  })
  .strict();

/** Compares a given bearer token with the configured one in constant time. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** Broadcast ids are PostgreSQL `serial` (int4): anything else names no broadcast. */
function isBroadcastId(id: string): boolean {
  return /^\d{1,10}$/.test(id) && Number(id) >= 1 && Number(id) <= 2_147_483_647;
}

/**
 * The district's own systems create and follow broadcasts over HTTP:
 * `POST /api/broadcasts`, `GET /api/broadcasts/:id`, `POST /api/broadcasts/:id/cancel`, all with
 * `Authorization: Bearer <ADMIN_TOKEN>`. Without ADMIN_TOKEN configured, every call is refused.
 */
export function createBroadcastApi(service: BroadcastService, adminToken: string | undefined, communeIds: string[]): Router {
  const router = express.Router();
  router.use('/api/broadcasts', (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!adminToken) {
      res.status(401).json({ error: 'unauthorized', message: 'The broadcast API is off: set ADMIN_TOKEN on the server to enable it.' });
      return;
    }
    if (!m || !tokenMatches(m[1]!, adminToken)) {
      res.status(401).json({ error: 'unauthorized', message: 'Send the header "Authorization: Bearer <ADMIN_TOKEN>".' });
      return;
    }
    next();
  });

  router.post('/api/broadcasts', express.json({ limit: '64kb' }), async (req, res, next) => {
    const parsed = bodySchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid_body', problems: formatZodIssues(parsed.error.issues) });
      return;
    }
    const b = parsed.data;
    if (b.communes !== 'all') {
      const unknown = b.communes.filter((c) => !communeIds.includes(c));
      if (unknown.length) {
        res.status(400).json({ error: 'invalid_body', problems: [`communes: unknown commune id(s) ${unknown.join(', ')} (known: ${communeIds.join(', ')})`] });
        return;
      }
    }
    try {
      const created = await service.create({
        topic: b.topic,
        textVi: b.text.vi,
        textEn: b.text.en ?? null,
        communes: b.communes === 'all' ? null : b.communes,
        createdBy: `api:${b.requestedBy}`,
        originChatId: null,
      });
      res.status(201).json({ id: created.id, status: created.status, total: created.total });
    } catch (err) {
      next(err);
    }
  });

  router.get('/api/broadcasts/:id', async (req, res, next) => {
    try {
      const b = isBroadcastId(req.params.id) ? await service.repo.findBroadcast(Number(req.params.id)) : null;
      if (!b) {
        res.status(404).json({ error: 'not_found' });
        return;
      }
      const { totals, byCommune, reasons } = await service.progress(b);
      res.json({ id: b.id, status: b.status, topic: b.topic, total: b.total, createdAt: b.createdAt, finishedAt: b.finishedAt, totals, byCommune, reasons });
    } catch (err) {
      next(err);
    }
  });

  router.post('/api/broadcasts/:id/cancel', async (req, res, next) => {
    try {
      const ok = isBroadcastId(req.params.id) && (await service.cancel(Number(req.params.id)));
      res.status(ok ? 200 : 409).json(ok ? { status: 'cancelled' } : { error: 'not_running' });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
