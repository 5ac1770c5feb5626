import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type RequestHandler, type Router } from 'express';
import { TELEGRAM_WEBHOOK_PATH } from '../../config';
import { describeError } from '../../errors';
import { setSecurityHeaders } from '../../http/createApp';
import type { Logger } from '../../logger';
import { answerWebhook, type WebhookResponse } from '../answerWebhook';
import { parseTelegramUpdate } from './parseTelegramUpdate';
import type { TelegramUpdateHandler } from './TelegramUpdateHandler';

/** Telegram's cap on update bodies is far below this; anything larger is not from Telegram. */
const MAX_BODY = '1mb';

/**
 * Compares the secret header with the expected secret in constant time (for equal lengths; a length mismatch
 * tells nothing about the secret's content). Build once per secret: the check runs on every update.
 */
export function createSecretCheck(secret: string): (header: string | undefined) => boolean {
  const expected = Buffer.from(secret, 'utf8');
  return (header) => {
    if (header === undefined) return false;
    const given = Buffer.from(header, 'utf8');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  };
}

/** One-off form of `createSecretCheck`. */
export function verifyTelegramSecret(header: string | undefined, secret: string): boolean {
  return createSecretCheck(secret)(header);
}

/**
 * `POST /webhooks/telegram`, in the order of the update pipeline: the secret header (401, nothing else done), the
 * body (400 malformed JSON, 413 over 1 MB, via the app's error boundary), the update's shape (400 naming the
 * field; unknown update kinds 200 and ignored), then the handler: 200 once committed or a duplicate (a button tap's
 * carrying its `answerCallbackQuery`), 5xx when the update could not be committed so that Telegram redelivers it.
 */
export function createTelegramWebhookRouter(deps: WebhookDeps): Router {
  const router = express.Router();
  const secretMatches = createSecretCheck(deps.secret);
  const checkSecret: RequestHandler = (req, res, next) => {
    if (!secretMatches(req.header('X-Telegram-Bot-Api-Secret-Token'))) {
      res.status(401).json({ error: 'unauthorized', message: 'The X-Telegram-Bot-Api-Secret-Token header is missing or wrong.' });
      return;
    }
    next();
  };
  router.post(TELEGRAM_WEBHOOK_PATH, checkSecret, express.json({ limit: MAX_BODY }), (req, res) => answerTelegramUpdate(req.body, res, deps));
  return router;
}

type WebhookDeps = { secret: string; handler: TelegramUpdateHandler; log: Logger; isClosing?: () => boolean };

/**
 * The update's shape (400 naming the field), then the handler: 200 once committed, 5xx when not. A button tap's 200
 * carries its `answerCallbackQuery` (Telegram performs it), so no request is made for it.
 */
async function answerTelegramUpdate(body: unknown, res: WebhookResponse, deps: WebhookDeps): Promise<void> {
  const parsed = parseTelegramUpdate(body, deps.handler.botUsername);
  if (!parsed.ok) {
    res.status(400).json({ error: 'invalid_update', problems: parsed.problems });
    return;
  }
  await answerWebhook(res, { channel: 'telegram', eventId: `tg:${parsed.updateId}`, log: deps.log, closing: deps.isClosing?.() ?? false }, () =>
    deps.handler.handle(parsed.updateId, parsed.meaning, 'webhook-reply'),
  );
}

/**
 * The same route served on Node's `http` directly, without Express: Telegram's own requests (a POST of plain JSON to
 * exactly TELEGRAM_WEBHOOK_PATH) are every update the bot gets, and Express's routing and body parser were ~8 % of
 * the CPU per update. Returns false, touching nothing, for any other request (a query string, another content type,
 * a compressed body...): the Express route answers those, with the same statuses and bodies as here.
 */
export function createTelegramWebhookFastPath(deps: WebhookDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const secretMatches = createSecretCheck(deps.secret);
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== TELEGRAM_WEBHOOK_PATH) return false;
    const encoding = req.headers['content-encoding'];
    if (!PLAIN_JSON.test(req.headers['content-type'] ?? '') || (encoding !== undefined && encoding !== 'identity')) return false;
    setSecurityHeaders(res);
    const header = req.headers['x-telegram-bot-api-secret-token'];
    if (!secretMatches(Array.isArray(header) ? header[0] : header)) {
      req.resume();
      send(res, 401, { error: 'unauthorized', message: 'The X-Telegram-Bot-Api-Secret-Token header is missing or wrong.' });
      return true;
    }
    const tooLarge = () => send(res, 413, { error: 'payload_too_large', message: 'The request body is larger than this endpoint accepts.' });
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      req.resume();
      tooLarge();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return tooLarge();
      const text = Buffer.concat(chunks, size).toString('utf8');
      let body: unknown;
      try {
        // As Express's JSON parser (strict): an empty body is {}, and only an object or an array is accepted.
        body = text.length === 0 ? {} : /^\s*[[{]/.test(text) ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      if (body === undefined) return send(res, 400, { error: 'malformed_body', message: 'The request body is not valid JSON.' });
      const plain: WebhookResponse = {
        get headersSent() {
          return res.headersSent;
        },
        status: (code) => ({ json: (b) => send(res, code, b) }),
      };
      answerTelegramUpdate(body, plain, deps).catch((err: unknown) => {
        deps.log.error({ err: describeError(err), method: 'POST', path: TELEGRAM_WEBHOOK_PATH }, 'request failed');
        if (!res.headersSent) send(res, 500, { error: 'internal_error', message: 'Something went wrong on our side; please try again.' });
      });
    });
    return true;
  };
}

/** A JSON body as Telegram sends it; anything else goes to the Express route. */
const PLAIN_JSON = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;
/** `MAX_BODY` in bytes. */
const MAX_BODY_BYTES = 1024 * 1024;
