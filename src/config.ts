import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Where the project lives: flows/, locales/ and localities/ are found relative to it. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Empty strings in an env file mean "not set". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const withDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess((v) => (v === undefined || (typeof v === 'string' && v.trim() === '') ? fallback : v), schema);

const urlWithProtocols = (protocols: string[], what: string) =>
  z.string().refine(
    (v) => {
      try {
        const u = new URL(v);
        return protocols.includes(u.protocol);
      } catch {
        return false;
      }
    },
    { message: `expected ${what}` },
  );

const positiveInt = (what: string) =>
  z.coerce
    .number({ message: `expected ${what}` })
    .int({ message: `expected ${what}` })
    .positive({ message: `expected ${what}` });

const TELEGRAM_DEFAULT_API_ROOT = 'https://api.telegram.org';
/** Ports Telegram delivers webhooks to (Bot API, setWebhook). */
const TELEGRAM_WEBHOOK_PORTS = ['443', '80', '88', '8443'];

const envSchema = z.object({
  NODE_ENV: withDefault(z.enum(['development', 'production', 'test'], { message: 'expected development, production or test' }), 'development'),
  PORT: withDefault(
    z.coerce.number({ message: 'expected a port number from 0 to 65535' }).int({ message: 'expected a port number from 0 to 65535' }).min(0, { message: 'expected a port number from 0 to 65535' }).max(65535, { message: 'expected a port number from 0 to 65535' }),
    '3000',
  ),
  HOST: withDefault(z.string(), '0.0.0.0'),
  PUBLIC_URL: optional(urlWithProtocols(['https:', 'http:'], 'the public https:// address of this server, e.g. https://bot.example.gov.vn')),
  REDIS_URL: optional(urlWithProtocols(['redis:', 'rediss:'], 'a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')),
  REDIS_KEY_PREFIX: withDefault(z.string().regex(/^[A-Za-z0-9:_-]{1,40}$/, { message: 'expected 1-40 letters, digits, ":", "_" or "-"' }), 'cgb:'),
  DATABASE_URL: optional(urlWithProtocols(['postgres:', 'postgresql:'], 'a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/bot')),
  DATA_DIR: withDefault(z.string().min(1), './data'),
  DEFAULT_LOCALE: withDefault(z.enum(['vi', 'en'], { message: 'expected vi or en' }), 'vi'),
  LOCALITY_FILE: withDefault(z.string().min(1), 'localities/bac-ha.json'),
  FLOWS_DIR: withDefault(z.string().min(1), 'flows'),
  LOCALES_DIR: withDefault(z.string().min(1), 'locales'),
  LOG_LEVEL: withDefault(z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }), 'info'),
  SESSION_TTL_DAYS: withDefault(positiveInt('a whole number of days, e.g. 30'), '30'),
  SESSION_RESUME_AFTER_MINUTES: withDefault(positiveInt('a whole number of minutes, e.g. 30'), '30'),
  SHUTDOWN_TIMEOUT_MS: withDefault(positiveInt('a whole number of milliseconds, e.g. 10000'), '10000'),
  TELEGRAM_BOT_TOKEN: optional(z.string().regex(/^\d{3,}:[A-Za-z0-9_-]{20,}$/, { message: 'expected the token @BotFather gave, like 123456789:AAF1x-abcdefghijklmnopqrstuvwxyz' })),
  TELEGRAM_API_ROOT: withDefault(urlWithProtocols(['https:', 'http:'], 'the http(s):// address of a Bot API server, e.g. https://api.telegram.org'), TELEGRAM_DEFAULT_API_ROOT),
  TELEGRAM_WEBHOOK_SECRET: optional(z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, { message: 'expected 1-256 letters, digits, _ or - (Telegram accepts nothing else in secret_token)' })),
  TELEGRAM_MODE: optional(z.enum(['webhook', 'polling'], { message: 'expected webhook or polling' })),
});

export type Env = z.infer<typeof envSchema>;

/** The whole configuration, read once at start-up and passed to whoever needs it. */
export interface Config {
  nodeEnv: Env['NODE_ENV'];
  port: number;
  host: string;
  publicUrl: string | undefined;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  databaseUrl: string | undefined;
  dataDir: string;
  defaultLocale: 'vi' | 'en';
  localityFile: string;
  logLevel: Env['LOG_LEVEL'];
  sessionTtlSeconds: number;
  resumeAfterMs: number;
  shutdownTimeoutMs: number;
  flowsDir: string;
  localesDir: string;
  /** Set when TELEGRAM_BOT_TOKEN is: the Telegram channel is on. */
  telegram: TelegramConfig | undefined;
}

export interface TelegramConfig {
  token: string;
  /** Bot API server, without a trailing slash. */
  apiRoot: string;
  /** Expected in the X-Telegram-Bot-Api-Secret-Token header of every webhook request. */
  webhookSecret: string;
  /** True when TELEGRAM_WEBHOOK_SECRET was not set and the secret was derived from the token. */
  webhookSecretDerived: boolean;
  mode: 'webhook' | 'polling';
  /** `PUBLIC_URL/webhooks/telegram`, registered with setWebhook at start-up; undefined without PUBLIC_URL. */
  webhookUrl: string | undefined;
}

export const TELEGRAM_WEBHOOK_PATH = '/webhooks/telegram';

/** A configuration that cannot be used; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const SECRET_NAMES = /TOKEN|SECRET|PASSWORD|KEY$/;

function describeValue(name: string, value: unknown): string {
  if (value === undefined) return 'it is not set';
  if (SECRET_NAMES.test(name)) return 'value hidden';
  const s = String(value);
  return `got "${s.length > 60 ? `${s.slice(0, 60)}…` : s}"`;
}

/** Parses the environment; throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      return `${name}: ${issue.message} (${describeValue(name, env[name])})`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const publicUrl = e.PUBLIC_URL?.replace(/\/+$/, '');
  const telegram = e.TELEGRAM_BOT_TOKEN ? telegramConfig(e, e.TELEGRAM_BOT_TOKEN, publicUrl) : undefined;
  if (telegram && 'problems' in telegram) throw new ConfigError(telegram.problems);
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(PROJECT_ROOT, e.DATA_DIR),
    defaultLocale: e.DEFAULT_LOCALE,
    localityFile: path.resolve(PROJECT_ROOT, e.LOCALITY_FILE),
    logLevel: e.LOG_LEVEL,
    sessionTtlSeconds: e.SESSION_TTL_DAYS * 86400,
    resumeAfterMs: e.SESSION_RESUME_AFTER_MINUTES * 60_000,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    flowsDir: path.resolve(PROJECT_ROOT, e.FLOWS_DIR),
    localesDir: path.resolve(PROJECT_ROOT, e.LOCALES_DIR),
    telegram,
  };
}

function telegramConfig(e: Env, token: string, publicUrl: string | undefined): TelegramConfig | { problems: string[] } {
  const apiRoot = e.TELEGRAM_API_ROOT.replace(/\/+$/, '');
  const mode = e.TELEGRAM_MODE ?? (publicUrl ? 'webhook' : 'polling');
  const webhookUrl = publicUrl ? `${publicUrl}${TELEGRAM_WEBHOOK_PATH}` : undefined;
  const problems: string[] = [];
  // api.telegram.org only delivers to https on a few ports; a local Bot API server (TELEGRAM_API_ROOT) is laxer.
  if (mode === 'webhook' && webhookUrl && apiRoot === TELEGRAM_DEFAULT_API_ROOT) {
    const u = new URL(webhookUrl);
    if (u.protocol !== 'https:') {
      problems.push(`PUBLIC_URL: Telegram delivers webhooks only to https:// addresses (got "${publicUrl}"); use https, or set TELEGRAM_MODE=polling`);
    } else if (u.port && !TELEGRAM_WEBHOOK_PORTS.includes(u.port)) {
      problems.push(`PUBLIC_URL: Telegram delivers webhooks only to ports ${TELEGRAM_WEBHOOK_PORTS.join(', ')} (got ${u.port}); put a reverse proxy on one of them, or set TELEGRAM_MODE=polling`);
    }
  }
  if (problems.length > 0) return { problems };
  // Without a configured secret, one is derived from the token: a webhook is never left open to forged updates.
  const derived = crypto.createHash('sha256').update(`telegram-webhook-secret:${token}`).digest('hex');
  return {
    token,
    apiRoot,
    webhookSecret: e.TELEGRAM_WEBHOOK_SECRET ?? derived,
    webhookSecretDerived: e.TELEGRAM_WEBHOOK_SECRET === undefined,
    mode,
    webhookUrl,
  };
}

/**
 * Reads `.env` in the project root when it exists (variables already set win), then the process environment.
 * The only place in the code base that reads `process.env`.
 */
export function loadConfigFromProcess(): Config {
  const envFile = path.join(PROJECT_ROOT, '.env');
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  return loadConfig(process.env);
}
