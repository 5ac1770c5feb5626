import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { checkRegistryNames, createRegistry } from '../../src/actions/registry';
import { BROADCAST_ACTION_NAMES, createBroadcastValidators } from '../../src/broadcasts/BroadcastService';
import { MemoryCampaignStore } from '../../src/campaign/CampaignStore';
import { loadConfig, PROJECT_ROOT, type Config } from '../../src/config';
import { replyAsText } from '../../src/engine/contracts';
import type { Engine } from '../../src/engine/interpreter';
import type { InboundEvent, Reply, Session } from '../../src/engine/types';
import { createLogger } from '../../src/logger';
import { RECORD_ACTION_NAMES } from '../../src/records/RecordsService';
import { createEngine, createGuidancePictures, createRuntime, loadDefinitions, PROJECT_NAMES, type Runtime } from '../../src/runtime';
import { trackServer } from './cleanup';
import { VENUE_OPTION_SOURCES, VENUE_VALIDATORS } from '../../src/venues/venueRegistry';
import { VENUE_ACTION_NAMES } from '../../src/venues/VenueService';

export const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures');

/** A fresh folder inside the run's folder (removed by the global teardown), or the system's temporary folder. */
export function tempDir(prefix = 'cgb-test-'): string {
  return fs.mkdtempSync(path.join(process.env.TEST_RUN_DIR ?? os.tmpdir(), prefix));
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
export function buildEngine(options: { resumeAfterMs?: number; localityFile?: string; /** Show guidance pictures, with the district's files from this folder. */ picturesDir?: string } = {}) {
  const defs = loadDefinitions(
    { localityFile: options.localityFile ?? path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), localesDir: path.join(PROJECT_ROOT, 'locales'), flowsDir: flowsWithFixtures() },
    { moreLocalesDirs: [path.join(FIXTURES, 'locales')] },
  );
  const { locality, i18n, flows } = defs;
  const { intents, words } = defs.understanding;
  const campaign = new MemoryCampaignStore();
  // The records, announcement and venue actions need a database: flows that reach them are tested with `startServer`.
  const needsServer = Object.fromEntries(
    [...RECORD_ACTION_NAMES, ...BROADCAST_ACTION_NAMES, ...VENUE_ACTION_NAMES].map((name) => [name, () => Promise.reject(new Error(`Action '${name}' needs the records database: test this flow with startServer`))]),
  );
  const pictures = options.picturesDir !== undefined ? createGuidancePictures({ guidancePicturesDir: options.picturesDir }, defs) : undefined;
  const registry = createRegistry({ locality, i18n, campaign, moreActions: needsServer, moreValidators: { ...VENUE_VALIDATORS, ...createBroadcastValidators(locality, words) }, moreOptionSources: VENUE_OPTION_SOURCES, pictures });
  checkRegistryNames(registry, PROJECT_NAMES);
  const engine = createEngine(defs, registry, { defaultLocale: 'vi', resumeAfterMs: options.resumeAfterMs ?? 30 * 60_000 });
  return { engine, flows, i18n, locality, campaign, intents, words, pictures };
}

/** Everything a person would see of some replies, as plain text (numbered lists included). */
export function show(replies: Reply[]): string {
  return replies.map(replyAsText).join('\n---\n');
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
  voice(fileRef: string) {
    return this.run({ kind: 'voice', fileRef });
  }
  /**
   * Types the number of the option of the last question whose label contains `label` (menu positions change). At the
   * menu, an item of the second level is reached through "Khác..." ("More..."), and after a flow through "Về menu".
   */
  async choose(label: string): Promise<string> {
    const numberOf = (text: string) => {
      const withOptions = [...this.last].reverse().find((r) => r.kind === 'choices');
      return withOptions?.kind === 'choices' ? withOptions.options.find((o) => o.label.includes(text))?.number : undefined;
    };
    for (const way of ['Về menu', 'Back to the menu', 'Khác...', 'More...']) {
      if (numberOf(label) !== undefined) break;
      const n = numberOf(way);
      if (n !== undefined) await this.say(String(n));
    }
    const n = numberOf(label);
    if (n === undefined) throw new Error(`No numbered option containing "${label}" in the last question: ${show(this.last)}`);
    return this.say(String(n));
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
  const close = trackServer(() => runtime.close());
  const port = await runtime.listen();
  return { runtime, url: `http://127.0.0.1:${port}`, close };
}

/** A web chat user talking to a running server over HTTP; the server's identity cookie is kept like a browser does. */
export class WebUser {
  /** The identity cookie (`cgb_chat=<id>.<signature>`), once the server issued one. */
  cookie: string | null = null;
  private readonly tag = crypto.randomBytes(4).toString('hex');
  private seq = 0;
  constructor(private readonly baseUrl: string) {}

  /** The id the server knows this person by (the session key is `web:<userId>`). */
  get userId(): string {
    const m = /^cgb_chat=([^.;]+)\./.exec(this.cookie ?? '');
    if (!m) throw new Error('WebUser: no identity yet (the server issues it with the first event)');
    return m[1]!;
  }

  /** Talks as the same person through another server (processes sharing one Redis and one SERVER_SECRET). */
  sameAs(other: WebUser): this {
    this.cookie = other.cookie;
    return this;
  }

  async post(body: Record<string, unknown>): Promise<{ status: number; json: { duplicate?: boolean; replies?: Reply[]; problems?: string[] } }> {
    const res = await fetch(`${this.baseUrl}/api/web/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.cookie ? { cookie: this.cookie } : {}) },
      body: JSON.stringify(body),
    });
    const set = res.headers.get('set-cookie');
    // A cleared cookie (`cgb_chat=; Max-Age=0`, after "delete my data") is forgotten, as a browser does.
    if (set) this.cookie = /^[^=]+=;|^[^=]+=$/.test(set.split(';')[0]!) ? null : set.split(';')[0]!;
    return { status: res.status, json: (await res.json()) as { duplicate?: boolean; replies?: Reply[]; problems?: string[] } };
  }

  nextEventId(): string {
    return `${this.tag}e${++this.seq}`;
  }

  async send(event: Record<string, unknown>, eventId = this.nextEventId()): Promise<string> {
    const { status, json } = await this.post({ ...event, eventId });
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
