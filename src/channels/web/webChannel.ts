import path from 'node:path';
import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import type { InboundEvent, Reply } from '../../engine/types';
import { userKey } from '../../pipeline/userKey';
import { PICTURE_REF } from '../../guidance/GuidancePictures';
import type { ChannelContext, ChannelPlugin } from '../ChannelPlugin';

const eventIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, { message: 'expected 8-64 letters, digits, _ or -' });

/** The person is not in the body: the server knows them by the identity cookie it issued (see WebIdentity). */
const webEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), eventId: eventIdSchema, payload: z.string().max(64).optional() }),
  z.object({ type: z.literal('text'), eventId: eventIdSchema, text: z.string().max(10_000) }),
  z.object({ type: z.literal('choice'), eventId: eventIdSchema, optionId: z.string().min(1).max(64) }),
  z.object({
    type: z.literal('location'),
    eventId: eventIdSchema,
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
  }),
]);

export type WebEvent = z.infer<typeof webEventSchema>;

/** Translates a web chat request of the person `userId` (from their identity cookie) into the engine's event. */
export function parseWebEvent(body: unknown, userId: string): { ok: true; event: InboundEvent } | { ok: false; problems: string[] } {
  const parsed = webEventSchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`) };
  }
  const e = parsed.data;
  const base = { channel: 'web' as const, userId, eventId: e.eventId };
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

/** Where the web chat gets guidance pictures (`<img src>`); the name changes with the content, so it is cached for good. */
export const WEB_PICTURES_PATH = '/guidance/pictures';

/** What the page receives: the engine's replies, a guidance picture with the address of its file. */
export type WebReply = Exclude<Reply, { kind: 'picture' }> | (Extract<Reply, { kind: 'picture' }> & { url: string });

/** The web chat needs little rendering beyond JSON: the page draws the replies itself; pictures get their address. */
export function renderRepliesForWeb(replies: Reply[]): WebReply[] {
  return replies.map((r) => (r.kind === 'picture' ? { ...r, url: `${WEB_PICTURES_PATH}/${r.ref}` } : r));
}

/** The chat page's files (HTML, CSS and a little plain JavaScript; no build step). */
export function webPublicDir(projectRoot: string): string {
  return path.join(projectRoot, 'src', 'channels', 'web', 'public');
}

/**
 * `GET /` (the chat page) and its JSON API; the person is known by the identity cookie the server issues:
 * - `POST /api/web/events` takes one event and answers with the replies; a repeated `eventId` (a retry on a bad
 *   connection) has no second effect and answers with the current question instead.
 * - `GET /api/web/prompt` answers with the current question (after a reload) and how many announcements wait in the
 *   person's box; it writes nothing.
 * Both are limited per client address and per identity (429 with Retry-After beyond).
 */
export function createWebChannel(ctx: Pick<ChannelContext, 'pipeline' | 'engine' | 'store' | 'projectRoot' | 'webIdentity' | 'announcements' | 'pictures'>): ChannelPlugin {
  return { name: 'web', router: createWebRouter(ctx) };
}

function tooMany(res: Response, retryAfterMs: number): void {
  res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
  res.status(429).json({ error: 'too_many_requests', message: 'Too many requests from this address or chat; please wait a little and try again.' });
}

function createWebRouter(deps: Pick<ChannelContext, 'pipeline' | 'engine' | 'store' | 'projectRoot' | 'webIdentity' | 'announcements' | 'pictures'>): Router {
  const router = express.Router();
  const identity = deps.webIdentity;
  router.use(express.static(webPublicDir(deps.projectRoot), { index: 'index.html', maxAge: '1h' }));
  router.get(`${WEB_PICTURES_PATH}/:ref`, (req, res) => {
    const file = PICTURE_REF.test(req.params.ref) ? deps.pictures?.file(req.params.ref) : null;
    if (!file) {
      res.status(404).type('text/plain').send('No such picture (it may have changed since: reload the chat).');
      return;
    }
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.type(file.contentType).send(file.bytes);
  });

  router.use('/api/web', async (req, res, next) => {
    try {
      const admitted = await identity.admitAddress(req);
      if (admitted.ok) next();
      else tooMany(res, admitted.retryAfterMs);
    } catch (err) {
      next(err);
    }
  });

  router.post('/api/web/events', express.json({ limit: '16kb' }), async (req, res, next) => {
    try {
      const who = await identity.identify(req, res);
      if (!who.ok) {
        tooMany(res, who.retryAfterMs);
        return;
      }
      const parsed = parseWebEvent(req.body, who.userId);
      if (!parsed.ok) {
        res.status(400).json({ error: 'invalid_event', problems: parsed.problems });
        return;
      }
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

  // A page load: nothing is written and no identity is issued; someone new gets `known: false`.
  router.get('/api/web/prompt', async (req, res, next) => {
    try {
      const userId = identity.read(req);
      const session = userId ? await deps.store.peek(userKey({ channel: 'web', userId })) : null;
      // A count only (a GET changes nothing): the page then sends a `start` event, which shows the box.
      const announcements = userId && session && deps.announcements ? await deps.announcements.waiting('web', userId) : 0;
      res.json({ replies: renderRepliesForWeb(deps.engine.currentPrompt(session)), known: session !== null, announcements });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
