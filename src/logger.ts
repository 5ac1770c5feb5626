import crypto from 'node:crypto';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Personal data never goes in: no message texts, names, phone numbers or platform user ids. A user is
 * logged as `userTag(userKey)`, a short one-way hash that lets an operator follow one user's events.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'citizen-guidance-bot' },
    // A second line of defence: these fields are never logged on purpose.
    redact: { paths: ['text', 'phone', 'userId', 'fullName', 'event.text', 'event.userId'], censor: '[redacted]' },
  });
}

export function userTag(userKey: string): string {
  return crypto.createHash('sha256').update(userKey).digest('hex').slice(0, 12);
}
