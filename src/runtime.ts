import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { Redis } from 'ioredis';
import { checkRegistryNames, createRegistry, REGISTRY_NAMES, REGISTRY_TEXT_KEYS, type RegistryNames } from './actions/registry';
import type { CampaignStore } from './campaign/CampaignStore';
import { PgCampaignStore } from './campaign/PgCampaignStore';
import type { ChannelPlugin } from './channels/ChannelPlugin';
import { createChannels } from './channels';
import { TELEGRAM_TEXT_KEYS } from './channels/telegram/telegramChannel';
import { ZALO_TEXT_KEYS } from './channels/zalo/renderZaloReplies';
import { GroupEvents } from './groups/GroupEvents';
import { PROJECT_ROOT, type Config } from './config';
import type { EngineRegistry } from './engine/contracts';
import { Engine, ENGINE_TEXT_KEYS } from './engine/interpreter';
import { loadUnderstanding } from './engine/intentMatcher';
import { entrySteps, flowsFor, loadFlows, type FlowSet } from './engine/loadFlows';
import { listLocalityGaps } from './locality/localityGaps';
import { READ_ONLY_ACTIONS } from './actions/readOnlyActions';
import { loadTranslator } from './i18n';
import { createApp } from './http/createApp';
import { loadLocality, type Locality } from './locality/localitySchema';
import { setUserTagKey, type Logger } from './logger';
import { checkSecretIsShared, loadServerSecret, secureDataDir } from './safety/serverSecret';
import { registerPrivacy } from './safety/registerPrivacy';
import { MemoryRequestCounter, RedisRequestCounter } from './safety/RequestLimits';
import { WebIdentity } from './channels/web/webIdentity';
import { WEB_PHOTO_PREFIX, WebPhotoStore } from './channels/web/WebPhotoStore';
import { EventPipeline } from './pipeline/EventPipeline';
import { Outbound } from './outbound/Outbound';
import { MemorySessionStore } from './sessions/MemorySessionStore';
import { RedisSessionStore } from './sessions/RedisSessionStore';
import { DEFAULT_STORE_OPTIONS, type SessionStore } from './sessions/SessionStore';
import { PersonalData } from './users/PersonalData';
import { MemoryReachability, RedisReachability, type Reachability } from './users/Reachability';
import { VALIDATOR_TEXT_KEYS } from './validators';
import { DailyJobs } from './records/DailyJobs';
import { openDatabase, type Database } from './db/Database';
import { migrate } from './db/migrate';
import { NoticeDispatcher, wakingNoticesOnReachable } from './records/NoticeDispatcher';
import { createOfficialsInbox } from './records/officialsInbox';
import { RecordsRepository } from './records/RecordsRepository';
import { RECORD_ACTION_NAMES, RecordsService, RECORDS_TEXT_KEYS } from './records/RecordsService';
import { loadTriageRules } from './records/triage';
import { createBroadcastApi } from './broadcasts/broadcastApi';
import { BroadcastRepository, type Broadcast } from './broadcasts/BroadcastRepository';
import { BroadcastSender } from './broadcasts/BroadcastSender';
import { BROADCAST_ACTION_NAMES, BROADCAST_TEXT_KEYS, BROADCAST_VALIDATOR_NAMES, BroadcastService, createBroadcastValidators, renderAnnouncement } from './broadcasts/BroadcastService';
import { createBroadcastGroupHandler } from './broadcasts/broadcastGroupHandler';
import { ANNOUNCEMENT_BOX_TEXT_KEYS, AnnouncementBox, isPersonInitiated, renderBox } from './broadcasts/AnnouncementBox';
import { ZaloOutsideWindow, type ZaloReachApi } from './broadcasts/zaloOutsideWindow';
import { Wakeup } from './util/Wakeup';
import { userKey } from './pipeline/userKey';
import { MemoryRateLimiter, RedisRateLimiter } from './util/RateLimiter';
import { OperatorError } from './errors';
import { Metrics } from './metrics/Metrics';
import { createMetricsRouter, startMetricsServer } from './metrics/metricsHttp';
import { zaloTokenDates } from './metrics/zaloTokenDates';
import { createAdmin, type Admin } from './admin/createAdmin';
import { AuditLog } from './admin/AdminAuth';
import { createVenues } from './venues/createVenues';
import { VENUE_ENGINE_TEXT_KEYS, VENUE_OPTION_SOURCES, VENUE_VALIDATORS } from './venues/venueRegistry';
import { VENUE_ACTION_NAMES, type VenueService } from './venues/VenueService';
import { GUIDANCE_CARD_IDS, GUIDANCE_CARD_TEXT_KEYS } from './guidance/guidanceCards';
import { GuidancePictures } from './guidance/GuidancePictures';
import { localized } from './engine/localized';

export const ONBOARDING_FLOW = 'onboarding';
export const TRIAGE_RULES_FILE = path.join(PROJECT_ROOT, 'rules', 'triage.json');
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'migrations');
export const MENU_FLOW = 'menu';
/** The officials' group at rest (flows/officials.json): their engine's home, where nothing is asked. */
export const OFFICIALS_FLOW = 'officials';
/** Where unsubscribe words lead in any state: the announcements flow's step that stops them. */
export const UNSUBSCRIBE_TARGET = 'subscriptions__doNone';

/** Everything a running server is made of, built once from the configuration. */
export interface Runtime {
  config: Config;
  app: Express;
  engine: Engine;
  flows: FlowSet;
  locality: Locality;
  /** Campaign figures ("installed the app" per commune). */
  campaign: CampaignStore;
  pipeline: EventPipeline;
  store: SessionStore;
  db: Database;
  records: RecordsService;
  dispatcher: NoticeDispatcher;
  dailyJobs: DailyJobs;
  broadcasts: BroadcastService;
  broadcastSender: BroadcastSender;
  venues: VenueService;
  reachability: Reachability;
  outbound: Outbound;
  groups: GroupEvents;
  personalData: PersonalData;
  channels: ChannelPlugin[];
  metrics: Metrics;
  /** The port of the metrics server (METRICS_PORT) once listening; undefined when there is none. */
  metricsPort(): number | undefined;
  /** The officials' dashboard (/admin), its group commands and the campaign figures. */
  admin: Admin;
  /** Starts listening; resolves with the port. */
  listen(): Promise<number>;
  /** Stops accepting, finishes in-flight events, closes connections. */
  close(): Promise<void>;
}

/** Redis could not be reached at start-up. */
export class StorageUnavailableError extends OperatorError {
  constructor(message: string) {
    super(message);
  }
}

/**
 * Loads and checks the data (locality, locales, triage rules, flows, intents): fails with one line per problem naming
 * the file and path. Flows are checked against the *names* of validators, actions and option lists, so that this
 * needs no storage and no server (`npm run check` and the start-up tests use it alone).
 */
export function loadDefinitions(
  config: Pick<Config, 'localityFile' | 'localesDir' | 'flowsDir'>,
  options: { names?: RegistryNames; /** More texts on top of LOCALES_DIR (the tests' fixtures). */ moreLocalesDirs?: string[] } = {},
) {
  const names = options.names ?? PROJECT_NAMES;
  const locality = loadLocality(config.localityFile, PROJECT_ROOT);
  const i18n = loadTranslator([config.localesDir, ...(options.moreLocalesDirs ?? [])]);
  const triageRules = loadTriageRules(TRIAGE_RULES_FILE, path.relative(PROJECT_ROOT, TRIAGE_RULES_FILE));
  const allFlows = loadFlows(config.flowsDir, {
    i18n,
    validators: [...names.validators],
    actions: [...names.actions],
    optionSources: [...names.optionSources],
    pictures: GUIDANCE_CARD_IDS,
    readOnlyActions: READ_ONLY_ACTIONS,
    requiredFlows: [ONBOARDING_FLOW, MENU_FLOW, OFFICIALS_FLOW],
    engineTextKeys: [
      ...ENGINE_TEXT_KEYS,
      ...VALIDATOR_TEXT_KEYS,
      ...REGISTRY_TEXT_KEYS,
      ...RECORDS_TEXT_KEYS,
      ...BROADCAST_TEXT_KEYS,
      ...ANNOUNCEMENT_BOX_TEXT_KEYS,
      ...VENUE_ENGINE_TEXT_KEYS,
      ...GUIDANCE_CARD_TEXT_KEYS,
      ...TELEGRAM_TEXT_KEYS,
      ...ZALO_TEXT_KEYS,
      ...Object.values(triageRules.levels).map((l) => l.advice),
    ],
    displayRoot: PROJECT_ROOT,
  });
  // Citizens' engine never sees the officials' flows: no menu, intent or link reaches them.
  const flows = flowsFor(allFlows, 'citizens');
  const officialsFlows = flowsFor(allFlows, 'officials');
  const understanding = loadUnderstanding(config.localesDir, intentTargets(flows), PROJECT_ROOT);
  return { locality, i18n, flows, officialsFlows, understanding, triageRules };
}

/** Every name flows may use in this project: the registry's own, the records', the announcements' and the venues'. */
export const PROJECT_NAMES: RegistryNames = {
  validators: [...REGISTRY_NAMES.validators, ...Object.keys(VENUE_VALIDATORS), ...BROADCAST_VALIDATOR_NAMES],
  actions: [...REGISTRY_NAMES.actions, ...RECORD_ACTION_NAMES, ...BROADCAST_ACTION_NAMES, ...VENUE_ACTION_NAMES],
  optionSources: [...REGISTRY_NAMES.optionSources, ...Object.keys(VENUE_OPTION_SOURCES)],
};

/** The engine over checked definitions and a registry offering the names they were checked with (server and tests). */
export function createEngine(defs: Pick<Definitions, 'flows' | 'i18n' | 'understanding'>, registry: EngineRegistry, config: Pick<Config, 'defaultLocale' | 'resumeAfterMs'>): Engine {
  return new Engine(defs.flows, defs.i18n, registry, {
    defaultLocale: config.defaultLocale,
    resumeAfterMs: config.resumeAfterMs,
    onboardingFlow: ONBOARDING_FLOW,
    menuFlow: MENU_FLOW,
    intents: defs.understanding.intents,
    words: defs.understanding.words,
    unsubscribeTarget: UNSUBSCRIBE_TARGET,
  });
}

/**
 * The engine of the officials' groups, over their flows only (the `/thongbao` announcement). Officials type
 * announcements: no word of theirs is a navigation command (the group handler drops a draft on a cancel word) and no
 * intent is guessed; a group speaks Vietnamese.
 */
export function createOfficialsEngine(defs: Pick<Definitions, 'officialsFlows' | 'i18n' | 'understanding'>, registry: EngineRegistry, config: Pick<Config, 'resumeAfterMs'>): Engine {
  return new Engine(defs.officialsFlows, defs.i18n, { ...registry, textVars: () => ({}) }, {
    defaultLocale: 'vi',
    resumeAfterMs: config.resumeAfterMs,
    onboardingFlow: OFFICIALS_FLOW,
    menuFlow: OFFICIALS_FLOW,
    words: { ...defs.understanding.words, commands: new Map(), diacriticsOnly: new Map() },
  });
}

export type Definitions = ReturnType<typeof loadDefinitions>;

/** The guidance pictures of a deployment: the district's folder over cards drawn from the texts (server and tests). */
export function createGuidancePictures(config: Pick<Config, 'guidancePicturesDir'>, defs: Pick<Definitions, 'i18n' | 'locality'>): GuidancePictures {
  const { i18n, locality } = defs;
  return new GuidancePictures({
    dir: config.guidancePicturesDir,
    i18n,
    footer: (locale) => i18n.t(locale, 'pictures.footer', { district: localized(locality.district, locale), province: localized(locality.province, locale) }),
    displayRoot: PROJECT_ROOT,
  });
}

/** What an intent may name: every flow, and each of its entry steps as `<flow>__<step>`. */
export function intentTargets(flows: FlowSet): string[] {
  return [...flows.byId.values()].flatMap((f) => [f.id, ...entrySteps(f).map((step) => `${f.id}__${step}`)]);
}

async function connectRedis(url: string, log: Logger): Promise<Redis> {
  // Auto-pipelining: the commands of concurrent updates issued in one tick go out in one socket write (fewer syscalls
  // under load); each connection still runs them in order, so no ordering guarantee changes.
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, commandTimeout: 5000, connectTimeout: 5000, enableAutoPipelining: true });
  let started = false;
  let lastError: Error | null = null;
  redis.on('error', (err: Error) => {
    lastError = err;
    if (started) log.warn({ err: { name: err.name, message: err.message } }, 'redis connection problem');
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const where = new URL(url);
    const reason = (lastError ?? (err as Error)).message;
    throw new StorageUnavailableError(
      `REDIS_URL: cannot reach Redis at ${where.hostname}:${where.port || 6379} (${reason}). Start Redis there, fix REDIS_URL, or leave REDIS_URL empty to keep sessions in memory (one process only).`,
    );
  }
  started = true;
  return redis;
}

export interface RuntimeOptions {
  clock?: () => number;
  /** Keep the embedded database in memory (tests). */
  inMemoryDatabase?: boolean;
  /** PostgreSQL schema for this runtime (tests on a shared server isolate themselves). */
  databaseSchema?: string;
  /** Start the notice dispatcher, the daily jobs and the broadcast sender on listen (default true). */
  backgroundJobs?: boolean;
}

/**
 * Builds the server in one direction: data -> storage -> services -> registry (checked against the names the flows
 * were checked with) -> engine and pipeline -> channels, all from one Redis connection, one translator, one logger.
 */
export async function createRuntime(config: Config, log: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const clock = options.clock ?? Date.now;
  // Secrets and files: DATA_DIR readable by this user only; the server secret keys log tags from the first line on.
  secureDataDir(config.dataDir);
  const secret = loadServerSecret(config.serverSecret, config.dataDir);
  setUserTagKey(secret.key('log-tag'));
  // Data.
  const defs = loadDefinitions(config);
  const { locality, i18n, triageRules, understanding } = defs;
  const gaps = listLocalityGaps(locality);
  if (gaps.length > 0) {
    log.warn(
      { localityFile: config.localityFile, empty: gaps },
      `The locality file leaves ${gaps.length} kinds of facts empty; the bot hides them (no "unknown" lines) until they are filled in: ${gaps.join('; ')}`,
    );
  }
  log.info(
    { examples: understanding.examples, features: understanding.intents.classifier.featureCount, trainingMs: Math.round(understanding.trainingMs) },
    'intent classifier trained',
  );

  // Storage.
  const storeOptions = { ...DEFAULT_STORE_OPTIONS, sessionTtlSeconds: config.sessionTtlSeconds };
  let store: SessionStore;
  let reachability: Reachability;
  let redis: Redis | null = null;
  if (config.redisUrl) {
    redis = await connectRedis(config.redisUrl, log);
    store = new RedisSessionStore(redis, config.redisKeyPrefix, storeOptions, clock);
    reachability = new RedisReachability(redis, config.redisKeyPrefix);
  } else {
    log.warn('REDIS_URL is not set: sessions are kept in memory, for this one process only, and are lost on restart. Set REDIS_URL to run several processes or keep sessions across restarts.');
    store = new MemorySessionStore(storeOptions, clock);
    reachability = new MemoryReachability();
  }
  if (redis && !(await checkSecretIsShared(secret, redis, config.redisKeyPrefix))) {
    log.error(
      'SERVER_SECRET: another process sharing this REDIS_URL uses a different server secret: web chat visitors switching between processes lose their conversation, and log tags and anonymous reporters differ. Set the same SERVER_SECRET on every process (or give them one DATA_DIR).',
    );
  }
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: options.inMemoryDatabase ? null : config.dataDir, schema: options.databaseSchema, embeddedCode: config.embeddedDbCode });
  const applied = await migrate(db, MIGRATIONS_DIR);
  // The embedded database sets its files' modes itself (0666), past the umask: narrowed after it opened and when
  // it closes. In between, files it adds sit in folders only the server's user may enter (0700).
  const embeddedFiles = !config.databaseUrl && !options.inMemoryDatabase;
  if (embeddedFiles) secureDataDir(config.dataDir);
  if (applied.length) log.info({ applied, database: db.kind }, 'database migrated');
  if (!config.databaseUrl) log.info({ dataDir: config.dataDir }, 'DATABASE_URL is not set: records are kept in the embedded database under DATA_DIR');

  const metrics = new Metrics(clock);
  metrics.setSources({ db, zaloTokens: zaloTokenDates(config, db) });

  // Services.
  const campaign = new PgCampaignStore(db);
  // Channels register their senders here when they are built; until then nothing can be pushed.
  const outbound = new Outbound();
  const groups = new GroupEvents();
  const personalData = new PersonalData();
  const repo = new RecordsRepository(db);
  const officialsChats = new Set([...locality.communes.flatMap((c) => (c.officialsTelegramChatId ? [c.officialsTelegramChatId] : [])), ...(config.officialsTelegramChatId ? [config.officialsTelegramChatId] : [])]);
  const communesWithoutGroup = config.officialsTelegramChatId ? [] : locality.communes.filter((c) => !c.officialsTelegramChatId).map((c) => c.name);
  if (communesWithoutGroup.length > 0) {
    log.warn(
      { communes: communesWithoutGroup },
      `No officials' Telegram group receives the reports of ${communesWithoutGroup.length === locality.communes.length ? 'any commune' : `${communesWithoutGroup.length} communes`}: citizens are told "an official will look at it" and given a phone to call, and officials see the reports only on the dashboard. To send reports to a group, add the bot to the district officials' group and set OFFICIALS_TELEGRAM_CHAT_ID to its chat id (or officialsTelegramChatId per commune in the locality file).`,
    );
  }
  const dispatcher: NoticeDispatcher = new NoticeDispatcher({
    repo,
    outbound,
    log,
    clock,
    policy: {
      districtChatId: config.officialsTelegramChatId ?? null,
      officialsChats,
      noticesPerMinute: locality.records.noticesPerMinute,
      text: (key, vars) => records.officialsText(key, vars),
      communeName: (commune) => records.communeName(commune),
      onDelivered: (recordId) => records.noticeDelivered(recordId, new Date(clock())),
    },
  });
  // Channels learn that a group has the bot back (`my_chat_member`); the notices waiting for it then go out.
  const channelReachability = wakingNoticesOnReachable(reachability, () => dispatcher);
  const records: RecordsService = new RecordsService({
    repo,
    locality,
    rules: triageRules,
    i18n,
    outbound,
    personalData,
    log,
    districtChatId: config.officialsTelegramChatId ?? null,
    onNoticeQueued: () => dispatcher.kick(),
    anonymousId: (channel, userId) => secret.mac('anonymous-reporter', `${channel}:${userId}`),
    // A report's photo, whatever the channel: Telegram's by file id, Zalo's by its address (Telegram fetches it), the
    // web chat's uploaded from the database by the Telegram sender (`citizenPhotos` below).
    noticePhoto: ({ fileRef, channel }) => {
      if (channel === 'telegram') return { url: fileRef };
      if (channel === 'zalo' && /^https?:\/\//.test(fileRef)) return { url: fileRef };
      if (channel === 'web' && fileRef.startsWith(WEB_PHOTO_PREFIX)) return { upload: fileRef };
      return null;
    },
  });
  const citizenPhotos = new WebPhotoStore(db);
  registerPrivacy({ personalData, db, repo, records, store, reachability, campaign, locality, sessionKey: (channel, userId) => userKey({ channel, userId }) });
  groups.register(createOfficialsInbox(records, clock));

  const broadcastRepo = new BroadcastRepository(db);
  // Announcements that could not be pushed wait in the person's box, shown at the top of their next conversation.
  const box = new AnnouncementBox(db);
  personalData.register('announcement-box', async (channel, userId) => box.erase(channel, userId), { tables: ['announcement_box'] });
  // The OA calls beyond the 7-day window belong to the Zalo channel's client, built with the channels below; the
  // sender asks for it only once it runs (after start-up).
  let zaloReach: ZaloReachApi | null = null;
  const outsideWindow = config.zalo ? new ZaloOutsideWindow({ db, box, api: () => zaloReach, config: config.zalo, district: locality.district.vi, log, clock }) : null;
  const broadcastQueued = new Wakeup();
  const broadcasts = new BroadcastService({
    repo: broadcastRepo,
    records: repo,
    locality,
    i18n,
    outbound,
    log,
    districtChatId: config.officialsTelegramChatId ?? null,
    onCreated: () => broadcastQueued.notify(),
    onNoticeQueued: () => dispatcher.kick(),
    clock,
  });
  // A burst of one batch lets a sender catch up on the slots it lost between two batches (claiming, recording),
  // so the long-run rate stays at the configured one; short bursts are within what the platforms allow.
  const burst = config.broadcastConcurrency;
  const limiter = (name: string, perSecond: number) =>
    redis ? new RedisRateLimiter(redis, `${config.redisKeyPrefix}rate:${name}`, { perSecond, burst }) : new MemoryRateLimiter({ perSecond, burst });
  const broadcastSender = new BroadcastSender({
    repo: broadcastRepo,
    outbound,
    channels: [
      { channel: 'telegram', limiter: limiter('telegram', config.telegramBroadcastRate), concurrency: config.broadcastConcurrency },
      { channel: 'zalo', limiter: limiter('zalo', config.zaloBroadcastRatePerMinute / 60), concurrency: config.broadcastConcurrency },
    ],
    hooks: {
      render: (b, locale) => broadcasts.render(b, locale),
      onUnreachable: async (channel, userId, broadcastId) => {
        await broadcastRepo.unsubscribe(channel, userId, 'blocked', new Date(clock()));
        // If they unblock the bot (or follow again) and write, they see what they missed.
        await box.add(channel, userId, broadcastId, new Date(clock()));
      },
      ...(outsideWindow ? { outsideWindow: (b: Broadcast, userId: string) => outsideWindow.reach(b, userId) } : {}),
      onProgress: (b) => broadcasts.onProgress(b),
      onFinished: (b) => broadcasts.onFinished(b),
      onOutcomes: metrics.observeBroadcastOutcomes,
    },
    log,
    clock,
  });
  broadcastQueued.listen(() => broadcastSender.kick());
  // One audit log for every official's look at personal data, from the dashboard, the groups or the venues API.
  const audit = new AuditLog(db, clock);
  const venues = createVenues({
    db,
    locality,
    i18n,
    outbound,
    log,
    audit,
    personalData,
    enqueueNotice: async (n) => {
      await repo.enqueueNotice({ ...n, recordId: null });
      dispatcher.kick();
    },
    districtChatId: config.officialsTelegramChatId ?? null,
    publicUrl: config.publicUrl ?? null,
    telegramBotUsername: config.telegramBotUsername ?? null,
    zaloOaId: config.zaloOaId ?? null,
    zaloCheckinLink: config.zaloCheckinLink ?? null,
    adminToken: config.adminToken,
    clock,
  });
  const admin = createAdmin({
    config,
    db,
    locality,
    i18n,
    records,
    broadcasts,
    venues: venues.service,
    audit,
    outbound,
    log,
    clock,
    onNoticeQueued: () => dispatcher.kick(),
    figureProviders: [venues.figureProvider],
  });
  // Before /thongbao's handler: a group's announcement draft must not swallow /thongke, /timbaocao or /dangnhap.
  groups.register(admin.groupHandler);

  // Guidance pictures: the district's files (checked now), else cards drawn from the texts on first use.
  const pictures = createGuidancePictures(config, defs);
  if (pictures.unusedFiles.length > 0) {
    log.warn({ dir: config.guidancePicturesDir, files: pictures.unusedFiles }, `GUIDANCE_PICTURES_DIR: these files name no card or language and are not used (cards: ${GUIDANCE_CARD_IDS.join(', ')})`);
  }

  // Registry, checked against the names the flows were checked with.
  const registry = createRegistry({
    locality,
    i18n,
    campaign,
    moreActions: { ...records.actions(), ...broadcasts.actions(), ...venues.service.actions() },
    moreValidators: { ...VENUE_VALIDATORS, ...createBroadcastValidators(locality, understanding.words) },
    moreOptionSources: VENUE_OPTION_SOURCES,
    canPush: (channel) => outbound.has(channel),
    pictures,
  });
  checkRegistryNames(registry, PROJECT_NAMES);
  // Every picture's address is known from the start, so that a page reloaded after a restart still finds them.
  for (const locale of i18n.locales) {
    for (const commune of locality.communes) for (const id of GUIDANCE_CARD_IDS) registry.picture?.(id, { locale, commune: commune.id }, locale);
  }

  // Engine and pipeline.
  const engine = createEngine(defs, registry, config);
  // After the dashboard's commands (a draft must not swallow /thongke, /timbaocao or /dangnhap), before the venues'.
  groups.register(createBroadcastGroupHandler({ broadcasts, engine: createOfficialsEngine(defs, registry, config), words: understanding.words, i18n, clock }));
  groups.register(venues.groupHandler);
  const pipeline = new EventPipeline({
    engine,
    store,
    log,
    clock,
    groups,
    prelude: async (event, session) => {
      if (outsideWindow && event.channel === 'zalo' && event.kind === 'contact') await outsideWindow.rememberPhone(event.userId, event.phone, new Date(clock()));
      if (!isPersonInitiated(event)) return [];
      const items = await box.take(event.channel, event.userId, event.eventId, new Date(clock()));
      return renderBox(items, session.profile.locale ?? config.defaultLocale, (l, k, v) => i18n.t(l, k, v), (b, l) => renderAnnouncement(b, l, i18n, locality));
    },
  });
  pipeline.observer = metrics.observeUpdate;
  const dailyJobs = new DailyJobs({ service: records, pipeline, outbound, reachability, reminderHour: locality.records.dailyReminderHour, log, onNoticeQueued: () => dispatcher.kick(), clock });
  personalData.registerRetention('announcement-box', (now) => box.purgeExpired(now), { tables: ['announcement_box'] });
  personalData.registerRetention('zalo-shared-phones', (now) => ZaloOutsideWindow.purgeExpired(db, now, locality.records.retentionDays.declaration), { tables: ['zalo_shared_phones'] });
  personalData.registerRetention('venue-checkins', (now) => venues.service.purgeExpired(now), { tables: ['venue_checkins', 'venue_visitors'] });

  // Channels.
  const requestCounter = redis ? new RedisRequestCounter(redis, config.redisKeyPrefix) : new MemoryRequestCounter();
  const webIdentity = new WebIdentity(secret, requestCounter, config.webLimits, config.sessionTtlSeconds);
  const channels = createChannels({ config, log, i18n, redis, engine, pipeline, store, reachability: channelReachability, outbound, groups, personalData, db, projectRoot: PROJECT_ROOT, webIdentity, announcements: box, flows: defs.flows, menuFlow: MENU_FLOW, pictures, citizenPhotos });
  for (const channel of channels) if (channel.sender) outbound.register(channel.sender);
  zaloReach = channels.find((c) => c.zaloReach)?.zaloReach ?? null;

  let shuttingDown = false;
  const app = createApp({
    log,
    isShuttingDown: () => shuttingDown,
    readiness: metrics.watchDependencies([
      { name: store.kind === 'redis' ? 'redis' : 'sessions', check: () => store.ping() },
      { name: 'database', check: async () => void (await db.query('SELECT 1')) },
    ]),
    routers: [
      ...channels.flatMap((c) => (c.router ? [c.router] : [])),
      createBroadcastApi(broadcasts, config.adminToken, locality.communes.map((c) => c.id)),
      ...venues.routers,
      ...(config.metrics.token ? [createMetricsRouter(metrics, config.metrics.token)] : []),
      admin.router,
    ],
  });

  let server: http.Server | null = null;
  const drawing = new AbortController();
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | null = null;
  return {
    config,
    app,
    engine,
    flows: defs.flows,
    locality,
    campaign,
    pipeline,
    store,
    db,
    records,
    dispatcher,
    dailyJobs,
    broadcasts,
    broadcastSender,
    venues: venues.service,
    reachability,
    outbound,
    groups,
    personalData,
    channels,
    metrics,
    metricsPort: () => metricsServer?.port,
    admin,
    listen: async () => {
      const port = await new Promise<number>((resolve, reject) => {
        const fastPaths = channels.flatMap((c) => (c.fastPath ? [c.fastPath] : []));
        server = http.createServer((req, res) => {
          for (const take of fastPaths) if (take(req, res)) return;
          app(req, res);
        });
        server.keepAliveTimeout = 65_000;
        server.once('error', reject);
        server.listen(config.port, config.host, () => resolve((server!.address() as AddressInfo).port));
      });
      if (config.metrics.port !== undefined) {
        metricsServer = await startMetricsServer(metrics, { host: config.metrics.host, port: config.metrics.port, token: config.metrics.token });
        log.info({ metricsPort: metricsServer.port, host: config.metrics.host }, 'metrics served on their own port');
      }
      for (const channel of channels) await channel.start?.();
      if (options.backgroundJobs !== false) {
        // The guidance cards are drawn now, in the background, rather than when the first person asks for one.
        void pictures
          .drawAll(drawing.signal)
          .then((drawn) => log.info({ drawn }, 'guidance pictures drawn'))
          .catch((err: Error) => log.error({ err: { name: err.name, message: err.message } }, 'guidance pictures could not be drawn; each is drawn again when asked for'));
        dispatcher.start();
        dailyJobs.start();
        broadcastSender.start();
        admin.start();
      }
      return port;
    },
    close: async () => {
      shuttingDown = true;
      drawing.abort();
      for (const channel of channels) {
        await channel.stop?.().catch((err: Error) => log.error({ channel: channel.name, err: { name: err.name, message: err.message } }, 'channel did not stop cleanly'));
      }
      const closing = server
        ? new Promise<void>((resolve) => {
            server!.close(() => resolve());
            server!.closeIdleConnections();
          })
        : Promise.resolve();
      await pipeline.drain();
      await broadcastSender.stop();
      await dispatcher.stop();
      await dailyJobs.stop();
      await admin.stop();
      // A response the client stopped reading (a download left half-read) would hold the server open: once every
      // event has been handled, connections still busy after a short grace are cut.
      const grace = new Promise<'grace'>((resolve) => setTimeout(() => resolve('grace'), 2000).unref());
      if ((await Promise.race([closing, grace])) === 'grace') server?.closeAllConnections();
      await closing;
      await metricsServer?.close();
      metrics.close();
      // Close every connection even when one of them fails to close.
      const results = await Promise.allSettled([store.close(), db.close()]);
      if (embeddedFiles) secureDataDir(config.dataDir);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
