import type { Request, Response, Router } from 'express';
import express from 'express';
import type { ZaloConfig } from '../../config';
import type { Logger } from '../../logger';
import { answerWebhook } from '../answerWebhook';
import { eventIdOf, parseZaloEvent, type ZaloEventMeaning } from './parseZaloEvent';
import { computeZaloMac, verifyZaloSignature } from './verifyZaloSignature';
import { eventHeadSchema } from './zaloSchemas';
import { formatZodIssues } from '../../errors';

export const ZALO_WEBHOOK_PATH = '/webhooks/zalo';

/** Signed events whose timestamp is further than this from now are refused as replays. */
export const ZALO_REPLAY_WINDOW_MS = 15 * 60_000;
/** Refused webhook requests are logged at most this often (a flood of forgeries must not flood the log). */
const REFUSAL_LOG_EVERY_MS = 60_000;

/**
 * The `timestamp` field of a webhook body, read from the raw bytes without parsing them: the signature covers it,
 * and nothing of an unsigned request is parsed. Null when there is no such field with a string of digits.
 */
export function readZaloTimestamp(raw: Buffer): string | null {
  const m = /"timestamp"\s*:\s*("?)(\d{1,16})\1/.exec(raw.toString('latin1'));
  return m ? m[2]! : null;
}

/** Logs refused webhook requests at most once per `everyMs`, with how many were refused since the last line. */
export class RefusalLog {
  private lastAt = -Infinity;
  private since = 0;
  constructor(
    private readonly log: Logger,
    private readonly everyMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  note(reason: string, detail: Record<string, unknown>): void {
    this.since++;
    const now = this.clock();
    if (now - this.lastAt < this.everyMs) return;
    this.log.warn({ channel: 'zalo', reason, refused: this.since, ...detail }, 'zalo webhook: request refused (logged at most once a minute)');
    this.lastAt = now;
    this.since = 0;
  }
}

/**
 * `POST /webhooks/zalo`, in the order of the update pipeline: the signature over the raw bytes (401, nothing parsed),
 * the replay window (400), the body (400 malformed JSON or shape, 413 over 1 MB), then the channel's handler through
 * `answerWebhook` (200 once committed, 503 when not, 503 while shutting down). The same shape as Telegram's route.
 */
export function createZaloWebhookRouter(deps: { cfg: ZaloConfig; log: Logger; handle: (meaning: ZaloEventMeaning) => Promise<void>; isClosing: () => boolean }): Router {
  const { cfg, log } = deps;
  const refusals = new RefusalLog(log, REFUSAL_LOG_EVERY_MS);
  const router: Router = express.Router();
// Raw bytes whatever the content type: the signature is computed on them, before any JSON parsing.
router.post(ZALO_WEBHOOK_PATH, express.raw({ type: () => true, limit: '1mb' }), async (req: Request, res: Response) => {
  const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const signature = req.get('x-zevent-signature');
  if (!signature) {
    refusals.note('no X-ZEvent-Signature header', {});
    res.status(401).json({ error: 'bad_signature' });
    return;
  }
  // The signature first, over the raw bytes and the body's timestamp field (read without parsing the body):
  // nothing of an unsigned request is parsed.
  const timestamp = readZaloTimestamp(raw);
  if (timestamp === null || !verifyZaloSignature(signature, cfg.appId, raw, timestamp, cfg.oaSecretKey)) {
    refusals.note('signature mismatch', { hint: timestamp === null ? 'no "timestamp" field in the body' : signatureHint(signature, raw, { timestamp }, cfg) });
    res.status(401).json({ error: 'bad_signature' });
    return;
  }
  // A signed event from long ago (or far ahead) is a replay of a captured request, not something Zalo sends now.
  if (Math.abs(Number(timestamp) - Date.now()) > ZALO_REPLAY_WINDOW_MS) {
    refusals.note('timestamp outside the replay window', { windowMinutes: ZALO_REPLAY_WINDOW_MS / 60_000 });
    res.status(400).json({ error: 'stale_event', message: 'The event timestamp is more than 15 minutes from now.' });
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    res.status(400).json({ error: 'malformed_body', message: 'The request body is not valid JSON.' });
    return;
  }
  const head = eventHeadSchema.safeParse(body);
  if (!head.success || head.data.timestamp !== timestamp) {
    res.status(400).json({ error: 'invalid_event', problems: head.success ? ['timestamp: appears more than once'] : formatZodIssues(head.error.issues) });
    return;
  }
  const parsed = parseZaloEvent(head.data.event_name, body);
  if (!parsed.ok) {
    log.warn({ channel: 'zalo', event: head.data.event_name, problems: parsed.problems }, 'zalo webhook: event of an unexpected shape');
    res.status(400).json({ error: 'invalid_event', problems: parsed.problems });
    return;
  }
  await answerWebhook(res, { channel: 'zalo', eventId: eventIdOf(parsed.meaning), log, closing: deps.isClosing() }, () => deps.handle(parsed.meaning));
});
  return router;
}

/** Why a signature did not match, when the cause is a common set-up mistake (never the secrets themselves). */
function signatureHint(signature: string, raw: Buffer, head: { timestamp: string }, cfg: ZaloConfig): string {
  const given = signature.trim().replace(/^mac=/i, '').toLowerCase();
  if (cfg.appSecret && given === computeZaloMac(cfg.appId, raw, head.timestamp, cfg.appSecret)) {
    return 'the event is signed with ZALO_APP_SECRET: set ZALO_OA_SECRET_KEY to the key this app uses for webhooks';
  }
  return 'check ZALO_OA_SECRET_KEY (the OA Secret Key on the Webhook page of the app) and ZALO_APP_ID';
}
