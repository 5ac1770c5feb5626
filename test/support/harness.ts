import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRegistry, REGISTRY_TEXT_KEYS } from '../../src/actions/registry';
import { MemoryCampaignStore } from '../../src/campaign/CampaignStore';
import { loadConfig, PROJECT_ROOT, type Config } from '../../src/config';
import { Engine, ENGINE_TEXT_KEYS, formatChoicesAsText } from '../../src/engine/interpreter';
import { LexiconIntentMatcher, loadIntentLexicon } from '../../src/engine/intents';
import { loadFlows } from '../../src/engine/loadFlows';
import type { InboundEvent, Reply, Session } from '../../src/engine/types';
import { loadTranslator } from '../../src/i18n';
import { loadLocality } from '../../src/locality/localitySchema';
import { createLogger } from '../../src/logger';
import { lateBoundRecordActions, RECORDS_TEXT_KEYS } from '../../src/records/RecordsService';
import { BROADCAST_TEXT_KEYS, lateBoundBroadcastActions } from '../../src/broadcasts/BroadcastService';
import { createRuntime, intentTargets, MENU_FLOW, ONBOARDING_FLOW, type Runtime } from '../../src/runtime';
import { VALIDATOR_TEXT_KEYS } from '../../src/validators';
import { lateBoundVenueActions, VENUE_ENGINE_TEXT_KEYS, VENUE_OPTION_SOURCES, VENUE_VALIDATORS } from '../../src/venues/venueRegistry';

export const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures');

export function tempDir(prefix = 'cgb-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A flows folder holding the real flows plus the test fixtures (the `demo` flow). */
export function flowsWithFixtures(): string {
  const dir = tempDir('cgb-flows-');
  for (const src of [path.join(PROJECT_ROOT, 'flows'), path.join(FIXTURES, 'flows')]) {
    for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  }
  return dir;
}

export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: the jest globalSetup (test/support/globalSetup.ts) did not run');
  return url;
}

export function uniquePrefix(): string {
  return `t${crypto.randomBytes(5).toString('hex')}:`;
}

/**
 * An engine over the real flows, locales and locality (or another locality file), plus the `demo` fixture flow.
 * `campaign` is the in-memory campaign store the actions record into.
 */
export function buildEngine(options: { resumeAfterMs?: number; localityFile?: string } = {}) {
  const locality = loadLocality(options.localityFile ?? path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'));
  const i18n = loadTranslator([path.join(PROJECT_ROOT, 'locales'), path.join(FIXTURES, 'locales')]);
  const campaign = new MemoryCampaignStore();
  // The records and announcement actions are registered by name; flows that reach them need `startServer` (a database).
  const registry = createRegistry({
    locality,
    i18n,
    campaign,
    moreActions: { ...lateBoundRecordActions(() => null), ...lateBoundBroadcastActions(() => null), ...lateBoundVenueActions(() => null) },
    moreValidators: VENUE_VALIDATORS,
    moreOptionSources: VENUE_OPTION_SOURCES,
  });
  const flows = loadFlows(flowsWithFixtures(), {
    i18n,
    validators: Object.keys(registry.validators),
    actions: Object.keys(registry.actions),
    optionSources: Object.keys(registry.optionSources),
    requiredFlows: [ONBOARDING_FLOW, MENU_FLOW],
    engineTextKeys: [...ENGINE_TEXT_KEYS, ...VALIDATOR_TEXT_KEYS, ...REGISTRY_TEXT_KEYS, ...RECORDS_TEXT_KEYS, ...BROADCAST_TEXT_KEYS, ...VENUE_ENGINE_TEXT_KEYS],
    displayRoot: PROJECT_ROOT,
  });
  const intents = new LexiconIntentMatcher(loadIntentLexicon(path.join(PROJECT_ROOT, 'locales'), intentTargets(flows), PROJECT_ROOT));
  const engine = new Engine(flows, i18n, registry, {
    defaultLocale: 'vi',
    resumeAfterMs: options.resumeAfterMs ?? 30 * 60_000,
    onboardingFlow: ONBOARDING_FLOW,
    menuFlow: MENU_FLOW,
    intents,
  });
  return { engine, flows, i18n, locality, campaign, intents };
}

/** Everything a person would see of some replies, as plain text (numbered lists included). */
export function show(replies: Reply[]): string {
  return replies
    .map((r) => {
      switch (r.kind) {
        case 'choices':
          return formatChoicesAsText(r);
        case 'image':
          return `[image ${r.url}] ${r.caption ?? ''}`;
        case 'document':
          return `[document ${r.url}] ${r.caption ?? ''}`;
        default:
          return r.text;
      }
    })
    .join('\n---\n');
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Talks to the engine as one person would, keeping the session between turns. */
export class Conversation {
  session: Session | null = null;
  now = Date.UTC(2021, 6, 15, 8, 0, 0);
  private seq = 0;
  last: Reply[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly channel: InboundEvent['channel'] = 'web',
    private readonly userId = 'user-1',
  ) {}

  private async run(e: DistributiveOmit<InboundEvent, 'channel' | 'userId' | 'eventId'>): Promise<string> {
    const event = { ...e, channel: this.channel, userId: this.userId, eventId: `ev-${++this.seq}` } as InboundEvent;
    const { session, replies } = await this.engine.handle(this.session, event, this.now);
    this.session = session;
    this.last = replies;
    return show(replies);
  }

  start(payload?: string) {
    return this.run({ kind: 'start', payload });
  }
  say(text: string) {
    return this.run({ kind: 'text', text });
  }
  tap(optionId: string) {
    return this.run({ kind: 'choice', optionId });
  }
  location(latitude: number, longitude: number) {
    return this.run({ kind: 'location', latitude, longitude });
  }
  photo(fileRef: string) {
    return this.run({ kind: 'photo', fileRef });
  }
  contact(phone: string) {
    return this.run({ kind: 'contact', phone });
  }
  /** Types the number of the option of the last question whose label contains `label` (menu positions change). */
  async choose(label: string): Promise<string> {
    const withOptions = [...this.last].reverse().find((r) => r.kind === 'choices');
    const option = withOptions?.kind === 'choices' ? withOptions.options.find((o) => o.label.includes(label)) : undefined;
    if (!option?.number) throw new Error(`No numbered option containing "${label}" in the last question: ${show(this.last)}`);
    return this.say(String(option.number));
  }

  /** The option ids offered by the last reply that had options. */
  optionIds(): string[] {
    const withOptions = [...this.last].reverse().find((r) => r.kind === 'choices');
    return withOptions && withOptions.kind === 'choices' ? withOptions.options.map((o) => o.id) : [];
  }
  async onboard(): Promise<void> {
    await this.start();
    await this.say('1');
    await this.say('ban pho');
  }
}

export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATA_DIR: tempDir('cgb-data-'), ...env });
}

/** The real server (Express app, pipeline, store) on a free port. */
export async function startServer(env: Record<string, string | undefined> = {}, options: { clock?: () => number } = {}): Promise<{ runtime: Runtime; url: string; close: () => Promise<void> }> {
  const config = testConfig(env);
  const runtime = await createRuntime(config, createLogger(config.logLevel), { inMemoryDatabase: !config.databaseUrl, backgroundJobs: false, clock: options.clock });
  const port = await runtime.listen();
  return { runtime, url: `http://127.0.0.1:${port}`, close: () => runtime.close() };
}

/** A web chat user talking to a running server over HTTP. */
export class WebUser {
  readonly userId = crypto.randomBytes(12).toString('hex');
  private seq = 0;
  constructor(private readonly baseUrl: string) {}

  async post(body: Record<string, unknown>): Promise<{ status: number; json: { duplicate?: boolean; replies?: Reply[]; problems?: string[] } }> {
    const res = await fetch(`${this.baseUrl}/api/web/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as { duplicate?: boolean; replies?: Reply[]; problems?: string[] } };
  }

  nextEventId(): string {
    return `${this.userId.slice(0, 8)}e${++this.seq}`;
  }

  async send(event: Record<string, unknown>, eventId = this.nextEventId()): Promise<string> {
    const { status, json } = await this.post({ ...event, userId: this.userId, eventId });
    if (status !== 200) throw new Error(`POST /api/web/events answered ${status}: ${JSON.stringify(json)}`);
    return show(json.replies ?? []);
  }
  start() {
    return this.send({ type: 'start' });
  }
  say(text: string, eventId?: string) {
    return this.send({ type: 'text', text }, eventId);
  }
  tap(optionId: string) {
    return this.send({ type: 'choice', optionId });
  }
}
