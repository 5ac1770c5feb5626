import { localized } from '../engine/localized';
import type { Action, ActionResult, Translator, ValidationResult, Validator } from '../engine/contracts';
import type { WordLists } from '../engine/words';
import { normalizeText } from '../engine/normalize';
import type { ChannelName, JsonValue, Locale, Reply } from '../engine/types';
import type { Locality } from '../locality/localitySchema';
import type { Logger } from '../logger';
import type { Outbound } from '../outbound/Outbound';
import type { RecordsRepository } from '../records/RecordsRepository';
import { scopeOfChat, type OfficialsScope } from '../records/officialsScope';
import type { Broadcast, BroadcastRepository, Topic } from './BroadcastRepository';

/** Channels a broadcast can reach (the web chat cannot push). */
export const PUSH_CHANNELS: ChannelName[] = ['telegram', 'zalo'];

export interface BroadcastServiceDeps {
  repo: BroadcastRepository;
  /** For progress and final reports to the group that started a broadcast (the notice outbox). */
  records: RecordsRepository;
  locality: Locality;
  i18n: Translator;
  outbound: Outbound;
  log: Logger;
  districtChatId: string | null;
  onCreated: () => void;
  onNoticeQueued: () => void;
  clock?: () => number;
}

export interface NewBroadcastRequest {
  topic: Topic;
  textVi: string;
  textEn: string | null;
  /** Commune ids, or null for all. */
  communes: string[] | null;
  createdBy: string;
  originChatId: string | null;
}

const MAX_TEXT = 3500;

/**
 * Announcements: subscriptions (flows' actions), creating broadcasts (HTTP API and `/thongbao` in officials'
 * groups), what each recipient receives, and progress reports.
 */
export class BroadcastService {
  private readonly clock: () => number;

  constructor(private readonly deps: BroadcastServiceDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  get repo(): BroadcastRepository {
    return this.deps.repo;
  }

  private vi(key: string, vars?: Record<string, unknown>): string {
    return this.deps.i18n.t('vi', key, vars);
  }

  /** Channels a broadcast goes to now: those that can push and are configured. */
  channels(): ChannelName[] {
    return PUSH_CHANNELS.filter((c) => this.deps.outbound.has(c));
  }

  communeName(id: string): string {
    return this.deps.locality.communes.find((c) => c.id === id)?.name ?? id;
  }

  /** What one recipient receives: the text in their language (Vietnamese when no English was written). */
  render(b: Pick<Broadcast, 'topic' | 'textVi' | 'textEn'>, locale: Locale): Reply[] {
    return renderAnnouncement(b, locale, this.deps.i18n, this.deps.locality);
  }

  async create(req: NewBroadcastRequest): Promise<Broadcast> {
    const b = await this.deps.repo.createBroadcast({ ...req, channels: this.channels(), now: new Date(this.clock()) });
    this.deps.log.info({ broadcast: b.id, topic: b.topic, total: b.total, communes: b.communes?.length ?? 'all', by: req.originChatId ? 'group' : 'api' }, 'broadcast created');
    this.deps.onCreated();
    return b;
  }

  /** Figures per commune and status, as the API and the final report show them. */
  async progress(b: Broadcast) {
    const rows = await this.deps.repo.report(b.id);
    const byCommune: Record<string, Record<string, number>> = {};
    const totals: Record<string, number> = {};
    for (const r of rows) {
      (byCommune[r.commune] ??= {})[r.status] = (byCommune[r.commune]![r.status] ?? 0) + r.n;
      totals[r.status] = (totals[r.status] ?? 0) + r.n;
    }
    return { totals, byCommune, reasons: await this.deps.repo.failureReasons(b.id) };
  }

  async reportText(b: Broadcast, final: boolean): Promise<string> {
    const { totals, byCommune, reasons } = await this.progress(b);
    const done = b.total - (totals.pending ?? 0) - (totals.sending ?? 0);
    if (!final) return this.vi('broadcast.progress', { id: b.id, done, total: b.total, percent: b.total ? Math.round((done / b.total) * 100) : 100 });
    const lines = Object.entries(byCommune).map(([commune, s]) =>
      this.vi('broadcast.reportLine', {
        commune: this.communeName(commune),
        sent: s.sent ?? 0,
        failed: (s.failed ?? 0) + (s.unknown ?? 0),
        unreachable: s.unreachable ?? 0,
        outside: s.outside_window ?? 0,
        template: s.template ?? 0,
        article: s.article ?? 0,
        boxed: s.boxed ?? 0,
        resent: s.resent ?? 0,
        cancelled: s.cancelled ?? 0,
      }),
    );
    const why = reasons.length ? `\n${this.vi('broadcast.reasons')}: ${reasons.map((r) => `${r.reason} (${r.n})`).join('; ')}` : '';
    const head = this.vi(b.status === 'cancelled' ? 'broadcast.reportCancelled' : 'broadcast.reportDone', { id: b.id, total: b.total });
    return `${head}\n${lines.join('\n') || this.vi('broadcast.noRecipients')}${why}`;
  }

  private async tellGroup(b: Broadcast, text: string): Promise<void> {
    if (!b.originChatId) return;
    await this.deps.records.enqueueNotice({ recordId: null, channel: 'telegram', recipient: b.originChatId, replies: [{ kind: 'text', text }], now: new Date(this.clock()) });
    this.deps.onNoticeQueued();
  }

  async onProgress(b: Broadcast): Promise<void> {
    await this.tellGroup(b, await this.reportText(b, false));
  }

  async onFinished(b: Broadcast): Promise<void> {
    await this.tellGroup(b, await this.reportText(b, true));
  }

  async cancel(id: number): Promise<boolean> {
    const ok = await this.deps.repo.cancelBroadcast(id, new Date(this.clock()));
    if (ok) {
      const b = await this.deps.repo.findBroadcast(id);
      if (b) await this.onFinished(b);
    }
    return ok;
  }

  // ---- subscriptions, for flows -----------------------------------------------------------------------------

  actions(): Record<BroadcastActionName, Action> {
    const now = () => new Date(this.clock());
    return {
      ...this.draftActions(),
      subscribeAll: async ({ channel, userId, profile, locale }) => {
        if (!profile.commune) return { ok: false, message: 'records.noCommune' };
        await this.deps.repo.subscribe({ channel, userId, commune: profile.commune, locale, urgent: true, news: true }, now());
        return { ok: true, output: {} };
      },
      subscribeUrgent: async ({ channel, userId, profile, locale }) => {
        if (!profile.commune) return { ok: false, message: 'records.noCommune' };
        await this.deps.repo.subscribe({ channel, userId, commune: profile.commune, locale, urgent: true, news: false }, now());
        return { ok: true, output: {} };
      },
      unsubscribe: async ({ channel, userId }) => {
        await this.deps.repo.unsubscribe(channel, userId, 'user', now());
        return { ok: true, output: {} };
      },
      subscriptionStatus: async ({ channel, userId, locale }) => {
        const s = await this.deps.repo.subscription(channel, userId);
        const key = !s || !s.active ? 'subscriptions.statusNone' : s.news ? 'subscriptions.statusAll' : 'subscriptions.statusUrgent';
        return { ok: true, output: { subscriptionStatus: this.deps.i18n.t(locale, key, { commune: s ? this.communeName(s.commune) : '' }), canPush: this.deps.outbound.has(channel) } };
      },
      syncSubscription: async ({ channel, userId, profile, locale }) => {
        if (profile.commune) await this.deps.repo.updateProfile(channel, userId, profile.commune, locale, now());
        return { ok: true, output: {} };
      },
    };
  }

  // ---- the `/thongbao` flow (flows/broadcast.json), in officials' groups -----------------------------------

  /** Which communes a group may address: all (the district group), its own commune, or none. */
  scopeOf(chatId: string): OfficialsScope | null {
    return scopeOfChat(this.deps.locality, this.deps.districtChatId, chatId);
  }

  /**
   * The actions of the announcement flow. Its session is the officials' group chat's (`userId` is the group), so each
   * action checks the group's scope itself: a private chat or another group never starts, previews or sends one.
   */
  private draftActions(): Record<(typeof DRAFT_ACTION_NAMES)[number], Action> {
    return {
      startBroadcastDraft: async ({ userId }): Promise<ActionResult> => {
        const scope = this.scopeOf(userId);
        if (!scope) return { ok: false, message: 'broadcast.notOfficialsGroup' };
        if (scope.kind === 'district') return { ok: true, output: { scope: 'district' } };
        return { ok: true, output: { scope: 'commune', communes: [scope.commune], where: this.communeName(scope.commune) } };
      },
      previewBroadcast: async ({ userId, answers }) => {
        if (!this.scopeOf(userId)) return { ok: false, message: 'broadcast.notOfficialsGroup' };
        const draft = draftOf(answers);
        const { counts, texts } = await this.previewDraft(draft);
        const perChannel = this.channels().map((c) => `${c === 'telegram' ? 'Telegram' : 'Zalo'}: ${counts[c] ?? 0}`).join(', ') || '0';
        const where = draft.communes ? draft.communes.map((c) => this.communeName(c)).join(', ') : this.vi('broadcast.allCommunes');
        return { ok: true, output: { where, counts: perChannel, previewText: texts.vi ?? '' } };
      },
      sendBroadcast: async ({ userId, answers }) => {
        if (!this.scopeOf(userId)) return { ok: false, message: 'broadcast.notOfficialsGroup' };
        const b = await this.create({ ...draftOf(answers), createdBy: `telegram:${String(answers.owner)}`, originChatId: userId });
        const text = this.vi('broadcast.started', { id: b.id, total: b.total, name: String(answers.ownerName ?? '') });
        return { ok: true, output: { broadcastId: b.id }, replies: [{ kind: 'choices', text, options: [{ id: `${STOP_BUTTON}${b.id}`, label: this.vi('broadcast.stop') }] }] };
      },
    };
  }

  /**
   * What a draft would do: recipients per channel that can push now, and the message each language receives. The
   * group's `/thongbao` and the dashboard both show it before sending.
   */
  async previewDraft(draft: { topic: Topic; textVi: string; textEn: string | null; communes: string[] | null }): Promise<{ counts: Record<string, number>; texts: Record<Locale, string> }> {
    const counts = await this.deps.repo.countRecipients(draft.topic, draft.communes, this.channels());
    const b: Broadcast = { id: 0, ...draft, status: 'sending', createdBy: '', originChatId: null, total: 0, createdAt: new Date(this.clock()), finishedAt: null };
    const text = (locale: Locale) => this.render(b, locale).map((r) => (r.kind === 'text' ? r.text : '')).join('\n');
    return { counts: Object.fromEntries(this.channels().map((c) => [c, counts[c] ?? 0])), texts: { vi: text('vi'), en: text('en') } };
  }

  /** `/huythongbao <id>` and the "stop" button of a running broadcast: only the group that started it stops it. */
  async stopFromGroup(chatId: string, id: number): Promise<'stopped' | 'notRunning' | 'notYours'> {
    const b = Number.isInteger(id) ? await this.deps.repo.findBroadcast(id) : null;
    if (!b || b.originChatId !== chatId) return 'notYours';
    return (await this.cancel(b.id)) ? 'stopped' : 'notRunning';
  }
}

/** The announcement a draft's answers describe (flows/broadcast.json saves them under these names). */
function draftOf(answers: Readonly<Record<string, JsonValue>>): { topic: Topic; textVi: string; textEn: string | null; communes: string[] | null } {
  return {
    topic: answers.topic === 'urgent' ? 'urgent' : 'news',
    textVi: String(answers.textVi ?? ''),
    textEn: typeof answers.textEn === 'string' ? answers.textEn : null,
    communes: Array.isArray(answers.communes) ? answers.communes.map(String) : null,
  };
}

/** Resolves typed commune names ("ban pho, coc ly", or an "all" word); null when one is not recognised. */
export function parseCommunes(locality: Pick<Locality, 'communes'>, text: string, allWords: ReadonlySet<string>): { all: true } | { all: false; ids: string[] } | null {
  if (allWords.has(normalizeText(text))) return { all: true };
  const ids: string[] = [];
  for (const part of text.split(/[,;\n]+/).map((p) => normalizeText(p)).filter(Boolean)) {
    const c = locality.communes.find((x) => [x.name, ...x.aliases].some((name) => normalizeText(name) === part) || x.id === part);
    if (!c) return null;
    if (!ids.includes(c.id)) ids.push(c.id);
  }
  return ids.length ? { all: false, ids } : null;
}

/**
 * The checks of the announcement's typed answers (flows/broadcast.json): the communes (district group), the
 * Vietnamese text, and the English one or a skip word (`locales/<lang>/words.json`).
 */
export function createBroadcastValidators(locality: Pick<Locality, 'communes'>, words: Pick<WordLists, 'all' | 'skip'>): Record<BroadcastValidatorName, Validator> {
  const text = (raw: string): ValidationResult => (raw.length < 5 || raw.length > MAX_TEXT ? { ok: false, error: 'broadcast.textLength', vars: { max: MAX_TEXT } } : { ok: true, value: raw });
  return {
    broadcastCommunes: (raw) => {
      const parsed = parseCommunes(locality, raw, words.all);
      if (!parsed) return { ok: false, error: 'broadcast.unknownCommune' };
      return { ok: true, value: parsed.all ? null : parsed.ids };
    },
    announcementText: text,
    announcementTranslation: (raw) => (words.skip.has(normalizeText(raw)) ? { ok: true, value: null } : text(raw)),
  };
}

/** The option id of a running broadcast's "stop" button (the group sees it as `bc:stop:<id>`). */
export const STOP_BUTTON = 'stop:';

const DRAFT_ACTION_NAMES = ['startBroadcastDraft', 'previewBroadcast', 'sendBroadcast'] as const;
export const BROADCAST_ACTION_NAMES = ['subscribeAll', 'subscribeUrgent', 'unsubscribe', 'subscriptionStatus', 'syncSubscription', ...DRAFT_ACTION_NAMES] as const;
export const BROADCAST_VALIDATOR_NAMES = ['broadcastCommunes', 'announcementText', 'announcementTranslation'] as const;
export type BroadcastValidatorName = (typeof BROADCAST_VALIDATOR_NAMES)[number];
export type BroadcastActionName = (typeof BROADCAST_ACTION_NAMES)[number];

export const BROADCAST_TEXT_KEYS = [
  'broadcast.headUrgent',
  'broadcast.headNews',
  'broadcast.footer',
  'broadcast.progress',
  'broadcast.reportLine',
  'broadcast.reasons',
  'broadcast.reportDone',
  'broadcast.reportCancelled',
  'broadcast.noRecipients',
  'broadcast.notOfficialsGroup',
  'broadcast.notYourDraft',
  'broadcast.draftBusy',
  'broadcast.draftExpired',
  'broadcast.unknownCommune',
  'broadcast.textLength',
  'broadcast.useButtons',
  'broadcast.draftCancelled',
  'broadcast.allCommunes',
  'broadcast.started',
  'broadcast.stop',
  'broadcast.stopped',
  'broadcast.notRunning',
  'broadcast.notYours',
  'broadcast.noDraft',
  'subscriptions.statusNone',
  'subscriptions.statusAll',
  'subscriptions.statusUrgent',
];

/** One announcement as a person gets it, in their language (Vietnamese when it has no text in theirs). */
export function renderAnnouncement(b: Pick<Broadcast, 'topic' | 'textVi' | 'textEn'>, locale: Locale, i18n: Pick<Translator, 't'>, locality: Pick<Locality, 'district'>): Reply[] {
  const text = locale === 'en' && b.textEn ? b.textEn : b.textVi;
  const lang: Locale = locale === 'en' && b.textEn ? 'en' : 'vi';
  const head = i18n.t(lang, b.topic === 'urgent' ? 'broadcast.headUrgent' : 'broadcast.headNews', { district: localized(locality.district, lang) });
  return [{ kind: 'text', text: `${head}\n\n${text}\n\n${i18n.t(lang, 'broadcast.footer')}` }];
}
