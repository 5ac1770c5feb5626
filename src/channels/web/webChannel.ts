import { formatZodIssues } from '../../errors';
import crypto from 'node:crypto';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { InboundEvent, Reply, Session } from '../../engine/types';
import type { PipelineOutcome } from '../../pipeline/EventPipeline';
import { userKey } from '../../pipeline/userKey';
import { PICTURE_REF } from '../../guidance/GuidancePictures';
import type { ChannelContext, ChannelPlugin } from '../ChannelPlugin';
import { sendAsset } from './webAssets';
import { buildWebPage } from './webPage';
import { sniffImageType, WEB_PHOTO_MAX_BYTES, WEB_PHOTOS_PER_DAY, WebPhotoStore } from './WebPhotoStore';

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
    return { ok: false, problems: formatZodIssues(parsed.error.issues) };
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

type WebDeps = Pick<ChannelContext, 'pipeline' | 'engine' | 'store' | 'projectRoot' | 'webIdentity' | 'announcements' | 'i18n' | 'config' | 'personalData' | 'db' | 'flows' | 'menuFlow' | 'pictures'>;

/** What the page learns with the replies besides them (never personal data beyond what the replies show). */
interface WebAnswer {
  replies: Reply[];
  /** The conversation's language: the page switches its own words and `<html lang>`. */
  locale: string;
  /** The person is at the main menu: when it follows a long outcome the page folds it behind one "Về menu" button. */
  atMenu: boolean;
  /** The current step asks for a photo: the page offers an upload. */
  expects?: 'photo';
}

/**
 * `GET /` (the chat page) and its JSON API; the person is known by the identity cookie the server issues:
 * - `POST /api/web/events` takes one event and answers with the replies; a repeated `eventId` (a retry on a bad
 *   connection) has no second effect and answers with the current question instead. After "delete my data" the
 *   answer says `erased`, the session is forgotten and the identity cookie cleared: the next Start is someone new.
 * - `POST /api/web/photo?eventId=` takes a photo (JPEG, PNG or WebP, 3 MB at most, 20 a day) as the answer to a photo
 *   step; elsewhere it is refused (409, with the current question) and nothing is stored.
 * - `POST /api/web/forget` ("clear this chat on this device", for shared phones) forgets the session and the cookie.
 * - `GET /api/web/prompt` answers with the current question (after a reload) and how many announcements wait in the
 *   person's box; it writes nothing.
 * The API is limited per client address and per identity (429 with Retry-After beyond), and never cached
 * (`no-store`: its answers carry what the person typed). The page's files are compressed and content-addressed.
 */
export function createWebChannel(ctx: WebDeps): ChannelPlugin {
  return { name: 'web', router: createWebRouter(ctx) };
}

function tooMany(res: Response, retryAfterMs: number): void {
  res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
  res.status(429).json({ error: 'too_many_requests', message: 'Too many requests from this address or chat; please wait a little and try again.' });
}

function createWebRouter(deps: WebDeps): Router {
  const router = express.Router();
  const identity = deps.webIdentity;
  const page = buildWebPage(webPublicDir(deps.projectRoot), deps.i18n, deps.config.defaultLocale);
  const photos = deps.db ? new WebPhotoStore(deps.db) : null;

  // "Delete my data" run by a request of this process: the request then ends the identity on the device. Only people
  // whose request is being handled here are noted, so the set never grows.
  const handling = new Map<string, number>();
  const erased = new Set<string>();
  deps.personalData.register(
    'web-chat',
    async (channel, userId) => {
      if (channel !== 'web') return;
      if (handling.get(userId)) erased.add(userId);
      await photos?.eraseOwner(identity.ownerHash(userId));
    },
    { tables: photos ? ['web_photos'] : [] },
  );
  if (photos) deps.personalData.registerRetention('web-photos', (now) => photos.purgeUnreferenced(now), { tables: ['web_photos'] });

  const answer = (session: Session | null, replies: Reply[]): WebAnswer => {
    const step = session?.flow && session.step && session.sub === null ? deps.flows?.byId.get(session.flow)?.steps[session.step] : undefined;
    return {
      replies: renderRepliesForWeb(replies),
      locale: session?.profile.locale ?? deps.config.defaultLocale,
      atMenu: session !== null && session.flow === deps.menuFlow,
      ...(step?.type === 'photo' && photos ? { expects: 'photo' as const } : {}),
    };
  };

  /** Runs one event of the person; answers with the replies, or that their data was erased. */
  const handle = async (req: Request, res: Response, event: InboundEvent, issued: boolean): Promise<void> => {
    handling.set(event.userId, (handling.get(event.userId) ?? 0) + 1);
    let outcome: PipelineOutcome;
    try {
      outcome = await deps.pipeline.handle(event);
    } finally {
      const left = (handling.get(event.userId) ?? 1) - 1;
      if (left > 0) handling.set(event.userId, left);
      else handling.delete(event.userId);
    }
    const wasErased = erased.delete(event.userId) || (outcome.status === 'duplicate' && outcome.session === null && !issued);
    if (wasErased) {
      // Through the pipeline, after the erasure's own commit: the person's session goes too, and the cookie.
      await deps.pipeline.handleEffect({ channel: 'web', userId: event.userId, eventId: `forget-${crypto.randomUUID()}`, kind: 'web-erased' }, async () => undefined, { forgetSession: true });
      identity.end(req, res);
      res.json({ duplicate: outcome.status === 'duplicate', erased: true, replies: outcome.status === 'handled' ? renderRepliesForWeb(outcome.replies) : [] });
      return;
    }
    if (outcome.status === 'duplicate') {
      res.json({ duplicate: true, ...answer(outcome.session, deps.engine.currentPrompt(outcome.session)) });
      return;
    }
    res.json({ duplicate: false, ...(issued ? { newChat: true } : {}), ...answer(outcome.session, outcome.replies) });
  };

  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const file = req.path === '/' || req.path === '/index.html' ? { asset: page.html, immutable: false } : page.files.get(req.path);
    if (!file) return next();
    sendAsset(req, res, file.asset, file.immutable);
  });

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
    res.setHeader('Cache-Control', 'no-store');
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
      await handle(req, res, parsed.event, who.issued);
    } catch (err) {
      next(err);
    }
  });

  router.post('/api/web/photo', express.raw({ type: () => true, limit: WEB_PHOTO_MAX_BYTES }), async (req, res, next) => {
    try {
      if (!photos) {
        res.status(404).json({ error: 'not_found' });
        return;
      }
      const eventId = eventIdSchema.safeParse(req.query.eventId);
      if (!eventId.success) {
        res.status(400).json({ error: 'invalid_event', problems: [`eventId: ${eventId.error.issues[0]?.message ?? 'invalid'}`] });
        return;
      }
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const type = sniffImageType(bytes);
      if (!type) {
        res.status(415).json({ error: 'unsupported_image', message: 'Send a JPEG, PNG or WebP picture.' });
        return;
      }
      const who = await identity.identify(req, res);
      if (!who.ok) {
        tooMany(res, who.retryAfterMs);
        return;
      }
      // Stored only as the answer to a photo step, and only a few a day per chat.
      const session = await deps.store.peek(userKey({ channel: 'web', userId: who.userId }));
      if (answer(session, []).expects !== 'photo') {
        res.status(409).json({ error: 'no_photo_expected', ...answer(session, deps.engine.currentPrompt(session)) });
        return;
      }
      const owner = identity.ownerHash(who.userId);
      if ((await photos.countSince(owner, new Date(Date.now() - 86_400_000))) >= WEB_PHOTOS_PER_DAY) {
        tooMany(res, 3_600_000);
        return;
      }
      const fileRef = await photos.save(owner, eventId.data, type, bytes, new Date());
      await handle(req, res, { channel: 'web', userId: who.userId, eventId: eventId.data, kind: 'photo', fileRef }, who.issued);
    } catch (err) {
      next(err);
    }
  });

  router.post('/api/web/forget', async (req, res, next) => {
    try {
      const userId = identity.read(req);
      if (userId) await deps.pipeline.handleEffect({ channel: 'web', userId, eventId: `forget-${crypto.randomUUID()}`, kind: 'web-forget' }, async () => undefined, { forgetSession: true });
      identity.end(req, res);
      res.json({ ok: true });
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
      res.json({ ...answer(session, deps.engine.currentPrompt(session)), known: session !== null, announcements });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
