import crypto from 'node:crypto';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Personal data never goes in: no message texts, names, phone numbers or platform user ids. A user is
 * logged as `userTag(userKey)`, a short keyed hash that lets an operator follow one user's events.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'citizen-guidance-bot' },
    // A second line of defence: these fields are never logged on purpose.
    redact: { paths: ['text', 'phone', 'userId', 'fullName', 'event.text', 'event.userId'], censor: '[redacted]' },
  });
}

/*
 * The key of the user tags. A plain hash of an id could be reversed by hashing every possible id (Telegram ids are
 * small numbers); an HMAC under the server secret cannot. Until the runtime sets the server's key (at start-up), a
 * random key of this process is used: tags are then only comparable within the process, and never reversible.
 */
let tagKey: Buffer = crypto.randomBytes(32);

/** Sets the key of the user tags (derived from the server secret, shared by every process of the deployment). */
export function setUserTagKey(key: Buffer): void {
  tagKey = key;
}

export function userTag(userKey: string): string {
  return crypto.createHmac('sha256', tagKey).update(userKey).digest('hex').slice(0, 12);
}
