import crypto from 'node:crypto';
import express, { type RequestHandler, type Router } from 'express';
import { TELEGRAM_WEBHOOK_PATH } from '../../config';
import type { Logger } from '../../logger';
import { answerWebhook } from '../answerWebhook';
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
 * field; unknown update kinds 200 and ignored), then the handler: 200 once committed or a duplicate, 5xx when
 * the update could not be committed so that Telegram redelivers it.
 */
export function createTelegramWebhookRouter(deps: { secret: string; handler: TelegramUpdateHandler; log: Logger; isClosing?: () => boolean }): Router {
  const router = express.Router();
  const secretMatches = createSecretCheck(deps.secret);
  const checkSecret: RequestHandler = (req, res, next) => {
    if (!secretMatches(req.header('X-Telegram-Bot-Api-Secret-Token'))) {
      res.status(401).json({ error: 'unauthorized', message: 'The X-Telegram-Bot-Api-Secret-Token header is missing or wrong.' });
      return;
    }
    next();
  };
  router.post(TELEGRAM_WEBHOOK_PATH, checkSecret, express.json({ limit: MAX_BODY }), async (req, res) => {
    const parsed = parseTelegramUpdate(req.body, deps.handler.botUsername);
    if (!parsed.ok) {
      res.status(400).json({ error: 'invalid_update', problems: parsed.problems });
      return;
    }
    await answerWebhook(res, { channel: 'telegram', eventId: `tg:${parsed.updateId}`, log: deps.log, closing: deps.isClosing?.() ?? false }, () => deps.handler.handle(parsed.updateId, parsed.meaning));
  });
  return router;
}

