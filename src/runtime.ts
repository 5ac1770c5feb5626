import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { Redis } from 'ioredis';
import { createRegistry, REGISTRY_TEXT_KEYS } from './actions/registry';
import { MemoryCampaignStore, type CampaignStore } from './campaign/CampaignStore';
import type { ChannelPlugin } from './channels/ChannelPlugin';
import { createChannels } from './channels';
import { GroupEvents } from './channels/GroupEvents';
import { PROJECT_ROOT, type Config } from './config';
import { Engine, ENGINE_TEXT_KEYS } from './engine/interpreter';
import { LexiconIntentMatcher, loadIntentLexicon } from './engine/intents';
import { loadFlows, type FlowSet } from './engine/loadFlows';
import { loadTranslator } from './i18n';
import { createApp } from './http/createApp';
import { loadLocality, type Locality } from './locality/localitySchema';
import type { Logger } from './logger';
import { EventPipeline } from './pipeline/EventPipeline';
import { Outbound } from './outbound/Outbound';
import { MemorySessionStore } from './sessions/MemorySessionStore';
import { RedisSessionStore } from './sessions/RedisSessionStore';
import { DEFAULT_STORE_OPTIONS, type SessionStore } from './sessions/SessionStore';
import { PersonalData } from './users/PersonalData';
import { MemoryReachability, RedisReachability, type Reachability } from './users/Reachability';
import { VALIDATOR_TEXT_KEYS } from './validators';

export const ONBOARDING_FLOW = 'onboarding';
export const MENU_FLOW = 'menu';

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
  reachability: Reachability;
  outbound: Outbound;
  groups: GroupEvents;
  personalData: PersonalData;
  channels: ChannelPlugin[];
  /** Starts listening; resolves with the port. */
  listen(): Promise<number>;
  /** Stops accepting, finishes in-flight events, closes connections. */
  close(): Promise<void>;
}

/** Redis could not be reached at start-up. */
export class StorageUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageUnavailableError';
  }
}

/**
 * Loads and checks the data (locality, locales, flows): fails with one line per problem naming the file and path.
 * Separate from `createRuntime` so that a flow check needs no server.
 */
export function loadDefinitions(config: Pick<Config, 'localityFile' | 'localesDir' | 'flowsDir'>, options: { campaign?: CampaignStore } = {}) {
  const locality = loadLocality(config.localityFile, PROJECT_ROOT);
  const i18n = loadTranslator(config.localesDir);
  const campaign = options.campaign ?? new MemoryCampaignStore();
  const registry = createRegistry({ locality, i18n, campaign });
  const flows = loadFlows(config.flowsDir, {
    i18n,
    validators: Object.keys(registry.validators),
    actions: Object.keys(registry.actions),
    optionSources: Object.keys(registry.optionSources),
    requiredFlows: [ONBOARDING_FLOW, MENU_FLOW],
    engineTextKeys: [...ENGINE_TEXT_KEYS, ...VALIDATOR_TEXT_KEYS, ...REGISTRY_TEXT_KEYS],
    displayRoot: PROJECT_ROOT,
  });
  const intents = new LexiconIntentMatcher(loadIntentLexicon(config.localesDir, intentTargets(flows), PROJECT_ROOT));
  return { locality, i18n, registry, flows, intents, campaign };
}

/** What an intent may name: every flow, and every step of a flow as `<flow>__<step>`. */
export function intentTargets(flows: FlowSet): string[] {
  return [...flows.byId.values()].flatMap((f) => [f.id, ...Object.keys(f.steps).map((step) => `${f.id}__${step}`)]);
}

async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, commandTimeout: 5000, connectTimeout: 5000 });
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

export async function createRuntime(config: Config, log: Logger, options: { clock?: () => number; campaign?: CampaignStore } = {}): Promise<Runtime> {
  const clock = options.clock ?? Date.now;
  if (!options.campaign) log.warn('Campaign figures ("installed the app" per commune) are kept in memory and lost on restart until a records database is wired in.');
  const { locality, i18n, registry, flows, intents, campaign } = loadDefinitions(config, { campaign: options.campaign });
  const storeOptions = { ...DEFAULT_STORE_OPTIONS, sessionTtlSeconds: config.sessionTtlSeconds };

  let store: SessionStore;
  let reachability: Reachability;
  if (config.redisUrl) {
    const redis = await connectRedis(config.redisUrl, log);
    store = new RedisSessionStore(redis, config.redisKeyPrefix, storeOptions, clock);
    reachability = new RedisReachability(redis, config.redisKeyPrefix);
  } else {
    log.warn('REDIS_URL is not set: sessions are kept in memory, for this one process only, and are lost on restart. Set REDIS_URL to run several processes or keep sessions across restarts.');
    store = new MemorySessionStore(storeOptions, clock);
    reachability = new MemoryReachability();
  }

  const engine = new Engine(flows, i18n, registry, {
    defaultLocale: config.defaultLocale,
    resumeAfterMs: config.resumeAfterMs,
    onboardingFlow: ONBOARDING_FLOW,
    menuFlow: MENU_FLOW,
    intents,
  });
  const pipeline = new EventPipeline(engine, store, log, clock);
  const outbound = new Outbound();
  const groups = new GroupEvents();
  const personalData = new PersonalData();
  personalData.register('sessions', async (channel, userId) => store.forget(EventPipeline.userKey({ channel, userId })));
  personalData.register('campaign', async (channel, userId) => campaign.forget(channel, userId));
  const channels = createChannels({ config, log, engine, pipeline, store, reachability, outbound, groups, personalData, projectRoot: PROJECT_ROOT });
  for (const channel of channels) if (channel.sender) outbound.register(channel.sender);

  let shuttingDown = false;
  const app = createApp({
    log,
    isShuttingDown: () => shuttingDown,
    readiness: [{ name: store.kind === 'redis' ? 'redis' : 'sessions', check: () => store.ping() }],
    routers: channels.flatMap((c) => (c.router ? [c.router] : [])),
  });

  let server: http.Server | null = null;
  return {
    config,
    app,
    engine,
    flows,
    locality,
    campaign,
    pipeline,
    store,
    reachability,
    outbound,
    groups,
    personalData,
    channels,
    listen: async () => {
      const port = await new Promise<number>((resolve, reject) => {
        server = http.createServer(app);
        server.keepAliveTimeout = 65_000;
        server.once('error', reject);
        server.listen(config.port, config.host, () => resolve((server!.address() as AddressInfo).port));
      });
      for (const channel of channels) await channel.start?.();
      return port;
    },
    close: async () => {
      shuttingDown = true;
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
      await closing;
      await store.close();
    },
  };
}
