import path from 'node:path';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { InboundEvent, Reply } from '../../engine/types';
import { userKey } from '../../pipeline/userKey';
import type { ChannelContext, ChannelPlugin } from '../ChannelPlugin';

/** Anonymous id that each browser makes for itself and keeps in localStorage. */
const userIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, { message: 'expected 16-64 letters, digits, _ or -' });
const eventIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, { message: 'expected 8-64 letters, digits, _ or -' });

const webEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), userId: userIdSchema, eventId: eventIdSchema, payload: z.string().max(64).optional() }),
  z.object({ type: z.literal('text'), userId: userIdSchema, eventId: eventIdSchema, text: z.string().max(10_000) }),
  z.object({ type: z.literal('choice'), userId: userIdSchema, eventId: eventIdSchema, optionId: z.string().min(1).max(64) }),
  z.object({
    type: z.literal('location'),
    userId: userIdSchema,
    eventId: eventIdSchema,
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
  }),
]);

export type WebEvent = z.infer<typeof webEventSchema>;

/** Translates a web chat request into the engine's event. */
export function parseWebEvent(body: unknown): { ok: true; event: InboundEvent } | { ok: false; problems: string[] } {
  const parsed = webEventSchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`) };
  }
  const e = parsed.data;
  const base = { channel: 'web' as const, userId: e.userId, eventId: e.eventId };
  switch (e.type) {
    case 'start':
      return { ok: true, event: { ...base, kind: 'start', payload: e.payload } };
    case 'text':
      return { ok: true, event: { ...base, kind: 'text', text: e.text } };
    case 'choice':
      return { ok: true, event: { ...base, kind: 'choice', optionId: e.optionId } };
    case 'location':
      return { ok: true, event: { ...base, kind: 'location', latitude: e.latitude, longitude: e.longitude } };
  }
}

/** The web chat needs no rendering beyond JSON: the page draws `Reply` objects itself. */
export function renderRepliesForWeb(replies: Reply[]): Reply[] {
  return replies;
}

/** The chat page's files (HTML, CSS and a little plain JavaScript; no build step). */
export function webPublicDir(projectRoot: string): string {
  return path.join(projectRoot, 'src', 'channels', 'web', 'public');
}

/**
 * `GET /` (the chat page) and its JSON API:
 * - `POST /api/web/events` takes one event and answers with the replies; a repeated `eventId` (a retry on a bad
 *   connection) has no second effect and answers with the current question instead.
 * - `GET /api/web/prompt?userId=` answers with the current question (after a reload).
 */
export function createWebChannel(ctx: Pick<ChannelContext, 'pipeline' | 'engine' | 'store' | 'projectRoot'>): ChannelPlugin {
  return { name: 'web', router: createWebRouter(ctx) };
}

function createWebRouter(deps: Pick<ChannelContext, 'pipeline' | 'engine' | 'store' | 'projectRoot'>): Router {
  const router = express.Router();
  router.use(express.static(webPublicDir(deps.projectRoot), { index: 'index.html', maxAge: '1h' }));

  router.post('/api/web/events', express.json({ limit: '16kb' }), async (req, res, next) => {
    const parsed = parseWebEvent(req.body);
    if (!parsed.ok) {
      res.status(400).json({ error: 'invalid_event', problems: parsed.problems });
      return;
    }
    try {
      const outcome = await deps.pipeline.handle(parsed.event);
      if (outcome.status === 'duplicate') {
        res.json({ duplicate: true, replies: renderRepliesForWeb(deps.engine.currentPrompt(outcome.session)) });
        return;
      }
      res.json({ duplicate: false, replies: renderRepliesForWeb(outcome.replies) });
    } catch (err) {
      next(err);
    }
  });

  router.get('/api/web/prompt', async (req, res, next) => {
    const userId = userIdSchema.safeParse(req.query.userId);
    if (!userId.success) {
      res.status(400).json({ error: 'invalid_user', problems: [`userId: ${userId.error.issues[0]?.message}`] });
      return;
    }
    try {
      const session = await deps.store.peek(userKey({ channel: 'web', userId: userId.data }));
      res.json({ replies: renderRepliesForWeb(deps.engine.currentPrompt(session)), known: session !== null });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
