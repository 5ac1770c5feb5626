import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { OperatorError } from './errors';

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

const portNumber = z.coerce
  .number({ message: 'expected a port number from 0 to 65535' })
  .int({ message: 'expected a port number from 0 to 65535' })
  .min(0, { message: 'expected a port number from 0 to 65535' })
  .max(65535, { message: 'expected a port number from 0 to 65535' });

const TELEGRAM_DEFAULT_API_ROOT = 'https://api.telegram.org';
/** Ports Telegram delivers webhooks to (Bot API, setWebhook). */
const TELEGRAM_WEBHOOK_PORTS = ['443', '80', '88', '8443'];

const envSchema = z.object({
  NODE_ENV: withDefault(z.enum(['development', 'production', 'test'], { message: 'expected development, production or test' }), 'development'),
  PORT: withDefault(portNumber, '3000'),
  HOST: withDefault(z.string(), '0.0.0.0'),
  PUBLIC_URL: optional(urlWithProtocols(['https:', 'http:'], 'the public https:// address of this server, e.g. https://bot.example.gov.vn')),
  REDIS_URL: optional(urlWithProtocols(['redis:', 'rediss:'], 'a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')),
  REDIS_KEY_PREFIX: withDefault(z.string().regex(/^[A-Za-z0-9:_-]{1,40}$/, { message: 'expected 1-40 letters, digits, ":", "_" or "-"' }), 'cgb:'),
  DATABASE_URL: optional(urlWithProtocols(['postgres:', 'postgresql:'], 'a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/bot')),
  DATA_DIR: withDefault(z.string().min(1), './data'),
  EMBEDDED_DB_CODE: withDefault(z.enum(['small', 'fast'], { message: 'expected small (less memory, the default) or fast (V8 also optimizes the embedded database: ~65 MB more)' }), 'small'),
  DEFAULT_LOCALE: withDefault(z.enum(['vi', 'en'], { message: 'expected vi or en' }), 'vi'),
  LOCALITY_FILE: withDefault(z.string().min(1), 'localities/bac-ha.json'),
  FLOWS_DIR: withDefault(z.string().min(1), 'flows'),
  LOCALES_DIR: withDefault(z.string().min(1), 'locales'),
  GUIDANCE_PICTURES_DIR: withDefault(z.string().min(1), 'assets/guidance'),
  LOG_LEVEL: withDefault(z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }), 'info'),
  SESSION_TTL_DAYS: withDefault(positiveInt('a whole number of days, e.g. 30'), '30'),
  SESSION_RESUME_AFTER_MINUTES: withDefault(positiveInt('a whole number of minutes, e.g. 30'), '30'),
  OFFICIALS_TELEGRAM_CHAT_ID: optional(z.string().regex(/^-?\d{1,20}$/, { message: 'expected a Telegram chat id such as -1001234567890' })),
  URGENT_ACK_REMINDER_MINUTES: withDefault(
    z.coerce.number({ message: 'expected a whole number of minutes, 0 to turn reminders off, e.g. 30' }).int({ message: 'expected a whole number of minutes, e.g. 30' }).min(0, { message: 'expected a whole number of minutes, e.g. 30' }),
    '30',
  ),
  WEB_REQUESTS_PER_MINUTE_PER_ADDRESS: withDefault(positiveInt('a whole number of requests per minute, e.g. 300'), '300'),
  WEB_REQUESTS_PER_MINUTE_PER_CHAT: withDefault(positiveInt('a whole number of requests per minute, e.g. 60'), '60'),
  WEB_NEW_CHATS_PER_HOUR_PER_ADDRESS: withDefault(positiveInt('a whole number of new chats per hour, e.g. 60'), '60'),
  SERVER_SECRET: optional(z.string().min(32, { message: 'expected a random secret of at least 32 characters, e.g. from `openssl rand -hex 32`' })),
  ADMIN_TOKEN: optional(z.string().min(16, { message: 'expected a random secret of at least 16 characters' })),
  TELEGRAM_BROADCAST_RATE: withDefault(positiveInt('messages per second, e.g. 25'), '25'),
  ZALO_BROADCAST_RATE_PER_MINUTE: withDefault(positiveInt('messages per minute, e.g. 3000 (below the OA limit of 4,000, so replies keep room)'), '3000'),
  BROADCAST_CONCURRENCY: withDefault(positiveInt('a whole number, e.g. 8'), '8'),
  SHUTDOWN_TIMEOUT_MS: withDefault(positiveInt('a whole number of milliseconds, e.g. 10000'), '10000'),
  TELEGRAM_BOT_USERNAME: optional(z.string().regex(/^@?[A-Za-z][A-Za-z0-9_]{3,31}$/, { message: 'expected the bot\'s user name as @BotFather shows it, e.g. BacHaCovidBot' })),
  ZALO_OA_ID: optional(z.string().regex(/^\d{5,30}$/, { message: 'expected the Official Account id, digits only (oa.zalo.me → Settings → OA ID)' })),
  ZALO_CHECKIN_LINK: optional(
    z
      .string()
      .regex(/^https:\/\/\S+$/, { message: 'expected an https:// link template, e.g. https://zalo.me/{oaId}?ref={payload}' })
      .refine((v) => v.includes('{payload}') || v.includes('{code}'), { message: 'expected the template to carry the venue: {payload} (checkin__code__<CODE>) or {code}' }),
  ),
  ZALO_APP_ID: optional(z.string().regex(/^\d{1,30}$/, { message: 'expected the Zalo app id, digits only (developers.zalo.me → your app → App ID)' })),
  ZALO_APP_SECRET: optional(z.string().min(8, { message: "expected the app's Secret Key (developers.zalo.me → your app → Settings)" })),
  ZALO_OA_SECRET_KEY: optional(z.string().min(8, { message: "expected the OA Secret Key shown on the app's Webhook page" })),
  ZALO_ACCESS_TOKEN: optional(z.string().min(8, { message: 'expected an OA access token' })),
  ZALO_REFRESH_TOKEN: optional(z.string().min(8, { message: 'expected an OA refresh token' })),
  ZALO_API_ROOT: withDefault(urlWithProtocols(['https:', 'http:'], 'the OA API address, e.g. https://openapi.zalo.me'), 'https://openapi.zalo.me'),
  ZALO_OAUTH_ROOT: withDefault(urlWithProtocols(['https:', 'http:'], 'the OAuth address, e.g. https://oauth.zaloapp.com'), 'https://oauth.zaloapp.com'),
  ZALO_HANDOVER_QUIET_MINUTES: withDefault(
    z.coerce.number({ message: 'expected a whole number of minutes, 0 to turn the hand-over pause off, e.g. 30' }).int({ message: 'expected a whole number of minutes, e.g. 30' }).min(0, { message: 'expected a whole number of minutes, e.g. 30' }),
    '30',
  ),
  ZALO_RATE_LIMIT_PER_MINUTE: withDefault(positiveInt('a whole number of requests per minute, e.g. 4000'), '4000'),
  // The access token lasts about 25 h (1,500 min): renewing more than a day ahead would renew on every call.
  ZALO_TOKEN_REFRESH_AHEAD_MINUTES: withDefault(positiveInt('a whole number of minutes from 1 to 1440, e.g. 120').pipe(z.number().max(1440, { message: 'expected a whole number of minutes from 1 to 1440, e.g. 120' })), '120'),
  ZALO_REQUEST_INFO_IMAGE_URL: optional(urlWithProtocols(['https:'], 'an https:// address of an image, e.g. the OA logo')),
  ZALO_TEMPLATE_ID: optional(z.string().regex(/^\d{1,20}$/, { message: 'expected the id of an approved ZBS/ZNS template, digits only (Zalo Cloud Account → ZBS → templates)' })),
  ZALO_TEMPLATE_TEXT_PARAM: withDefault(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,49}$/, { message: 'expected the name of the template parameter that holds the announcement, e.g. content' }), 'content'),
  ZALO_TEMPLATE_API_ROOT: withDefault(urlWithProtocols(['https:', 'http:'], 'the ZBS template API address, e.g. https://business.openapi.zalo.me'), 'https://business.openapi.zalo.me'),
  ZALO_ARTICLE_CITIES: optional(z.string().regex(/^\d{1,4}(,\d{1,4})*$/, { message: "expected Zalo's code of the province (or several, comma separated), e.g. 5" })),
  ZALO_ARTICLE_COVER_URL: optional(urlWithProtocols(['https:'], 'an https:// address of the cover image of announcement articles')),
  TELEGRAM_BOT_TOKEN: optional(z.string().regex(/^\d{3,}:[A-Za-z0-9_-]{20,}$/, { message: 'expected the token @BotFather gave, like 123456789:AAF1x-abcdefghijklmnopqrstuvwxyz' })),
  TELEGRAM_API_ROOT: withDefault(urlWithProtocols(['https:', 'http:'], 'the http(s):// address of a Bot API server, e.g. https://api.telegram.org'), TELEGRAM_DEFAULT_API_ROOT),
  TELEGRAM_WEBHOOK_SECRET: optional(z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, { message: 'expected 1-256 letters, digits, _ or - (Telegram accepts nothing else in secret_token)' })),
  TELEGRAM_MODE: optional(z.enum(['webhook', 'polling'], { message: 'expected webhook or polling' })),
  METRICS_TOKEN: optional(z.string().min(16, { message: 'expected a random secret of at least 16 characters, e.g. from `openssl rand -hex 24`' })),
  METRICS_PORT: optional(portNumber),
  METRICS_HOST: withDefault(z.string().min(1), '127.0.0.1'),
});

/** The Zalo Official Account channel; null when it is off (no app id or no token). */
export interface ZaloConfig {
  appId: string;
  /** OAuth `secret_key` (the app's Secret Key); needed to refresh tokens. */
  appSecret: string | undefined;
  /** Key of the webhook signature (`X-ZEvent-Signature`). */
  oaSecretKey: string;
  /** The first token pair; used only until a newer pair is stored. */
  accessToken: string | undefined;
  refreshToken: string | undefined;
  apiRoot: string;
  oauthRoot: string;
  /** After an OA admin writes to a person by hand, the bot stays quiet for that person this long (0: never). */
  handoverQuietMs: number;
  rateLimitPerMinute: number;
  refreshAheadMs: number;
  requestInfoImageUrl: string | undefined;
  /** Approved template messages by phone, for urgent announcements beyond the 7-day window; null when off. */
  template: { templateId: string; textParam: string; apiRoot: string } | null;
  /** OA article broadcasts for district-wide general announcements beyond the window; null when off. */
  article: { cities: string; coverUrl: string } | null;
}

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
  /** How V8 compiles the embedded database's WebAssembly: baseline code only (`small`) or also optimized (`fast`). */
  embeddedDbCode: 'small' | 'fast';
  defaultLocale: 'vi' | 'en';
  localityFile: string;
  logLevel: Env['LOG_LEVEL'];
  sessionTtlSeconds: number;
  resumeAfterMs: number;
  shutdownTimeoutMs: number;
  adminToken: string | undefined;
  /** Urgent records not acknowledged this long are reminded in their group (0: never). */
  urgentAckReminderMinutes: number;
  /** Limits of the web chat's JSON API (shared by every process through Redis). */
  webLimits: { perAddressPerMinute: number; perIdentityPerMinute: number; newIdentitiesPerAddressPerHour: number };
  /** Signs the web chat's identity, keys anonymous reporters' hashes and log tags; generated under DATA_DIR when unset. */
  serverSecret: string | undefined;
  telegramBroadcastRate: number;
  zaloBroadcastRatePerMinute: number;
  broadcastConcurrency: number;
  /** The district officials' Telegram group: reports of communes without a group of their own go there. */
  officialsTelegramChatId: string | undefined;
  flowsDir: string;
  localesDir: string;
  /** The district's own guidance pictures (`<lang>/<card>.png` or `<card>.png`), used instead of the drawn cards. */
  guidancePicturesDir: string;
  zalo: ZaloConfig | null;
  /** Set when TELEGRAM_BOT_TOKEN is: the Telegram channel is on. */
  telegram: TelegramConfig | undefined;
  /** Prometheus metrics: on the main port behind a token, and/or on a port of their own (off when neither is set). */
  metrics: { token: string | undefined; port: number | undefined; host: string };
  /** The bot's user name, for t.me links on venue posters (without "@"). */
  telegramBotUsername: string | undefined;
  /** The Zalo Official Account's id, for zalo.me links on venue posters. */
  zaloOaId: string | undefined;
  /** A template of the Zalo link that opens the OA's chat carrying a venue's check-in (`{oaId}`, `{payload}`, `{code}`). */
  zaloCheckinLink: string | undefined;
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
export class ConfigError extends OperatorError {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
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
  const zalo = zaloConfig(e);
  const telegramOrProblems = e.TELEGRAM_BOT_TOKEN ? telegramConfig(e, e.TELEGRAM_BOT_TOKEN, publicUrl) : undefined;
  // Every channel's problems at once, one line each.
  const problems = [...(zalo.ok ? [] : zalo.problems), ...(telegramOrProblems && 'problems' in telegramOrProblems ? telegramOrProblems.problems : [])];
  if (problems.length > 0 || !zalo.ok) throw new ConfigError(problems);
  const telegram = telegramOrProblems as TelegramConfig | undefined;
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(PROJECT_ROOT, e.DATA_DIR),
    embeddedDbCode: e.EMBEDDED_DB_CODE,
    defaultLocale: e.DEFAULT_LOCALE,
    localityFile: path.resolve(PROJECT_ROOT, e.LOCALITY_FILE),
    logLevel: e.LOG_LEVEL,
    sessionTtlSeconds: e.SESSION_TTL_DAYS * 86400,
    resumeAfterMs: e.SESSION_RESUME_AFTER_MINUTES * 60_000,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    officialsTelegramChatId: e.OFFICIALS_TELEGRAM_CHAT_ID,
    adminToken: e.ADMIN_TOKEN,
    urgentAckReminderMinutes: e.URGENT_ACK_REMINDER_MINUTES,
    serverSecret: e.SERVER_SECRET,
    webLimits: {
      perAddressPerMinute: e.WEB_REQUESTS_PER_MINUTE_PER_ADDRESS,
      perIdentityPerMinute: e.WEB_REQUESTS_PER_MINUTE_PER_CHAT,
      newIdentitiesPerAddressPerHour: e.WEB_NEW_CHATS_PER_HOUR_PER_ADDRESS,
    },
    telegramBroadcastRate: e.TELEGRAM_BROADCAST_RATE,
    zaloBroadcastRatePerMinute: e.ZALO_BROADCAST_RATE_PER_MINUTE,
    broadcastConcurrency: e.BROADCAST_CONCURRENCY,
    flowsDir: path.resolve(PROJECT_ROOT, e.FLOWS_DIR),
    localesDir: path.resolve(PROJECT_ROOT, e.LOCALES_DIR),
    guidancePicturesDir: path.resolve(PROJECT_ROOT, e.GUIDANCE_PICTURES_DIR),
    zalo: zalo.config,
    telegram,
    metrics: { token: e.METRICS_TOKEN, port: e.METRICS_PORT, host: e.METRICS_HOST },
    telegramBotUsername: e.TELEGRAM_BOT_USERNAME?.replace(/^@/, ''),
    zaloOaId: e.ZALO_OA_ID,
    zaloCheckinLink: e.ZALO_CHECKIN_LINK,
  };
}

/** The Zalo channel is on when the app id and a token are set; then the keys it cannot work without are required. */
function zaloConfig(e: Env): { ok: true; config: ZaloConfig | null } | { ok: false; problems: string[] } {
  const hasToken = e.ZALO_ACCESS_TOKEN !== undefined || e.ZALO_REFRESH_TOKEN !== undefined;
  if (!e.ZALO_APP_ID) {
    if (!hasToken) return { ok: true, config: null };
    return { ok: false, problems: ['ZALO_APP_ID: required when ZALO_ACCESS_TOKEN or ZALO_REFRESH_TOKEN is set; copy the App ID from developers.zalo.me → your app (it is not set)'] };
  }
  if (!hasToken) return { ok: true, config: null };
  const problems: string[] = [];
  if (!e.ZALO_OA_SECRET_KEY) {
    problems.push("ZALO_OA_SECRET_KEY: required when the Zalo channel is on, to check the signature of every webhook event; copy the OA Secret Key from developers.zalo.me → your app → Webhook (it is not set)");
  }
  if (e.ZALO_REFRESH_TOKEN && !e.ZALO_APP_SECRET) {
    problems.push("ZALO_APP_SECRET: required with ZALO_REFRESH_TOKEN, to renew the access token every day; copy the app's Secret Key from developers.zalo.me → your app → Settings (it is not set)");
  }
  if (e.ZALO_ARTICLE_CITIES && !e.ZALO_ARTICLE_COVER_URL) {
    problems.push('ZALO_ARTICLE_COVER_URL: required with ZALO_ARTICLE_CITIES, because an OA article needs a cover photo; give an https:// address of an image (it is not set)');
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: {
      template: e.ZALO_TEMPLATE_ID ? { templateId: e.ZALO_TEMPLATE_ID, textParam: e.ZALO_TEMPLATE_TEXT_PARAM, apiRoot: e.ZALO_TEMPLATE_API_ROOT.replace(/\/+$/, '') } : null,
      article: e.ZALO_ARTICLE_CITIES && e.ZALO_ARTICLE_COVER_URL ? { cities: e.ZALO_ARTICLE_CITIES, coverUrl: e.ZALO_ARTICLE_COVER_URL } : null,
      appId: e.ZALO_APP_ID,
      appSecret: e.ZALO_APP_SECRET,
      oaSecretKey: e.ZALO_OA_SECRET_KEY!,
      accessToken: e.ZALO_ACCESS_TOKEN,
      refreshToken: e.ZALO_REFRESH_TOKEN,
      apiRoot: e.ZALO_API_ROOT.replace(/\/+$/, ''),
      oauthRoot: e.ZALO_OAUTH_ROOT.replace(/\/+$/, ''),
      handoverQuietMs: e.ZALO_HANDOVER_QUIET_MINUTES * 60_000,
      rateLimitPerMinute: e.ZALO_RATE_LIMIT_PER_MINUTE,
      refreshAheadMs: e.ZALO_TOKEN_REFRESH_AHEAD_MINUTES * 60_000,
      requestInfoImageUrl: e.ZALO_REQUEST_INFO_IMAGE_URL,
    },
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
