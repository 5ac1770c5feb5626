import type { GroupEvent, GroupEventHandler, GroupEventResult } from '../groups/GroupEvents';
import type { Action, Translator } from '../engine/contracts';
import { normalizeText } from '../engine/normalize';
import type { ChannelName, Locale, Reply, ReplyOption } from '../engine/types';
import type { Locality } from '../locality/localitySchema';
import type { Logger } from '../logger';
import type { Outbound } from '../outbound/Outbound';
import type { RecordsRepository } from '../records/RecordsRepository';
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
  render(b: Broadcast, locale: Locale): Reply[] {
    const text = locale === 'en' && b.textEn ? b.textEn : b.textVi;
    const lang: Locale = locale === 'en' && b.textEn ? 'en' : 'vi';
    const head = this.deps.i18n.t(lang, b.topic === 'urgent' ? 'broadcast.headUrgent' : 'broadcast.headNews', { district: this.deps.locality.district[lang] });
    return [{ kind: 'text', text: `${head}\n\n${text}\n\n${this.deps.i18n.t(lang, 'broadcast.footer')}` }];
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

  // ---- /thongbao in officials' groups -----------------------------------------------------------------------

  /** Which communes a group may address: all (the district group), its own commune, or none. */
  private scopeOf(chatId: string): { kind: 'district' } | { kind: 'commune'; commune: string } | null {
    if (this.deps.districtChatId && chatId === this.deps.districtChatId) return { kind: 'district' };
    const commune = this.deps.locality.communes.find((c) => c.officialsTelegramChatId === chatId);
    return commune ? { kind: 'commune', commune: commune.id } : null;
  }

  /** Resolves typed commune names ("ban pho, coc ly" or "tat ca"); null when one is not recognised. */
  parseCommunes(text: string): { all: true } | { all: false; ids: string[] } | null {
    const n = normalizeText(text);
    if (['tat ca', 'all', 'toan huyen', 'ca huyen'].includes(n)) return { all: true };
    const ids: string[] = [];
    for (const part of text.split(/[,;\n]+/).map((p) => normalizeText(p)).filter(Boolean)) {
      const c = this.deps.locality.communes.find((x) => [x.name, ...x.aliases].some((name) => normalizeText(name) === part) || x.id === part);
      if (!c) return null;
      if (!ids.includes(c.id)) ids.push(c.id);
    }
    return ids.length ? { all: false, ids } : null;
  }

  /** The `/thongbao` conversation of an officials' group: target, topic, text (vi, en), preview, confirm. */
  groupHandler(): GroupEventHandler {
    return async (event) => {
      if (event.kind === 'button' && event.data?.startsWith('bc:')) return this.onButton(event);
      if (event.kind !== 'text' || !event.text) return null;
      const text = event.text.trim();
      const command = /^\/(\w+)(?:@\w+)?(?:\s+(.*))?$/s.exec(text);
      if (command?.[1] === 'thongbao') return this.startDraft(event);
      if (command?.[1] === 'huythongbao') return this.cancelCommand(event, command[2]);
      const draft = await this.liveDraft(event.chatId);
      if (!draft) return null;
      // What other officials write in the group is not for this draft: only its author types its text.
      if (draft.expired) return draft.owner === event.fromUserId ? this.say(this.vi('broadcast.draftExpired')) : null;
      if (draft.owner !== event.fromUserId) return null;
      return this.continueDraft(event, draft.step, draft.data, text);
    };
  }

  private say(text: string, options: ReplyOption[] = []): GroupEventResult {
    return { replies: [options.length ? { kind: 'choices', text, options } : { kind: 'text', text }] };
  }

  /**
   * The group's draft with its author, or null. A draft belongs to the official who typed /thongbao and lives
   * `DRAFT_TTL_MS` from then; an expired one is deleted here (and reported as `expired` once, to say so).
   */
  private async liveDraft(chatId: string): Promise<{ step: string; data: Record<string, unknown>; owner: string; ownerName: string; expired: boolean } | null> {
    const draft = await this.deps.repo.draft(chatId);
    if (!draft) return null;
    const owner = typeof draft.data.owner === 'string' ? draft.data.owner : null;
    const startedAt = typeof draft.data.startedAt === 'number' ? draft.data.startedAt : 0;
    const expired = owner === null || this.clock() - startedAt > DRAFT_TTL_MS;
    if (expired) await this.deps.repo.deleteDraft(chatId);
    if (owner === null) return null;
    return { step: draft.step, data: draft.data, owner, ownerName: String(draft.data.ownerName ?? ''), expired };
  }

  private async startDraft(event: GroupEvent): Promise<GroupEventResult> {
    const scope = this.scopeOf(event.chatId);
    if (!scope) return this.say(this.vi('broadcast.notOfficialsGroup'));
    const existing = await this.liveDraft(event.chatId);
    if (existing && !existing.expired && existing.owner !== event.fromUserId) return this.say(this.vi('broadcast.draftBusy', { name: existing.ownerName }));
    const now = new Date(this.clock());
    const author = { owner: event.fromUserId, ownerName: event.fromName, startedAt: now.getTime() };
    if (scope.kind === 'commune') {
      await this.deps.repo.saveDraft(event.chatId, 'topic', { ...author, communes: [scope.commune] }, now);
      return this.askTopic(this.vi('broadcast.forCommune', { commune: this.communeName(scope.commune) }));
    }
    await this.deps.repo.saveDraft(event.chatId, 'communes', author, now);
    return this.say(this.vi('broadcast.askCommunes'));
  }

  private askTopic(prefix = ''): GroupEventResult {
    return this.say(`${prefix ? `${prefix}\n` : ''}${this.vi('broadcast.askTopic')}`, [
      { id: 'bc:topic:urgent', label: `1. ${this.vi('broadcast.topicUrgent')}` },
      { id: 'bc:topic:news', label: `2. ${this.vi('broadcast.topicNews')}` },
    ]);
  }

  private async continueDraft(event: GroupEvent, step: string, data: Record<string, unknown>, text: string): Promise<GroupEventResult | null> {
    const now = new Date(this.clock());
    if (normalizeText(text) === 'huy' || text === '/huy') {
      await this.deps.repo.deleteDraft(event.chatId);
      return this.say(this.vi('broadcast.draftCancelled'));
    }
    switch (step) {
      case 'communes': {
        const parsed = this.parseCommunes(text);
        if (!parsed) return this.say(this.vi('broadcast.unknownCommune'));
        await this.deps.repo.saveDraft(event.chatId, 'topic', { ...data, communes: parsed.all ? null : parsed.ids }, now);
        return this.askTopic();
      }
      case 'topic': {
        const n = normalizeText(text);
        const topic: Topic | null = n === '1' || n.includes('khan') ? 'urgent' : n === '2' || n.includes('tin') ? 'news' : null;
        if (!topic) return this.askTopic(this.vi('broadcast.pickTopic'));
        await this.deps.repo.saveDraft(event.chatId, 'textVi', { ...data, topic }, now);
        return this.say(this.vi('broadcast.askTextVi'));
      }
      case 'textVi': {
        if (text.length < 5 || text.length > MAX_TEXT) return this.say(this.vi('broadcast.textLength', { max: MAX_TEXT }));
        await this.deps.repo.saveDraft(event.chatId, 'textEn', { ...data, textVi: text }, now);
        return this.say(this.vi('broadcast.askTextEn'));
      }
      case 'textEn': {
        const skip = ['bo qua', 'khong', 'skip', 'no', '0'].includes(normalizeText(text));
        if (!skip && (text.length < 5 || text.length > MAX_TEXT)) return this.say(this.vi('broadcast.textLength', { max: MAX_TEXT }));
        const next = { ...data, textEn: skip ? null : text };
        await this.deps.repo.saveDraft(event.chatId, 'confirm', next, now);
        return this.preview(next);
      }
      case 'confirm':
        return this.say(this.vi('broadcast.useButtons'), [
          { id: 'bc:send', label: this.vi('broadcast.send') },
          { id: 'bc:discard', label: this.vi('broadcast.discard') },
        ]);
      default:
        await this.deps.repo.deleteDraft(event.chatId);
        return null;
    }
  }

  private async preview(data: Record<string, unknown>): Promise<GroupEventResult> {
    const communes = (data.communes as string[] | null) ?? null;
    const topic = data.topic as Topic;
    const counts = await this.deps.repo.countRecipients(topic, communes, this.channels());
    const perChannel = this.channels().map((c) => `${c === 'telegram' ? 'Telegram' : 'Zalo'}: ${counts[c] ?? 0}`).join(', ') || '0';
    const where = communes ? communes.map((c) => this.communeName(c)).join(', ') : this.vi('broadcast.allCommunes');
    const sample = this.render({ id: 0, topic, textVi: String(data.textVi), textEn: (data.textEn as string | null) ?? null, communes, status: 'sending', createdBy: '', originChatId: null, total: 0, createdAt: new Date(), finishedAt: null }, 'vi');
    const body = sample[0]!.kind === 'text' ? sample[0]!.text : '';
    return this.say(this.vi('broadcast.preview', { name: String(data.ownerName ?? ''), where, counts: perChannel, text: body }), [
      { id: 'bc:send', label: this.vi('broadcast.send') },
      { id: 'bc:discard', label: this.vi('broadcast.discard') },
    ]);
  }

  private async onButton(event: GroupEvent): Promise<GroupEventResult> {
    const scope = this.scopeOf(event.chatId);
    if (!scope) return { replies: [], toast: this.vi('broadcast.notOfficialsGroup') };
    const data = event.data!;
    const stop = /^bc:stop:(\d+)$/.exec(data);
    if (stop) {
      const b = await this.deps.repo.findBroadcast(Number(stop[1]));
      if (!b || b.originChatId !== event.chatId) return { replies: [], toast: this.vi('broadcast.notYours') };
      const ok = await this.cancel(b.id);
      return { replies: [], toast: this.vi(ok ? 'broadcast.stopped' : 'broadcast.notRunning') };
    }
    const draft = await this.liveDraft(event.chatId);
    if (!draft) return { replies: [], toast: this.vi('broadcast.noDraft') };
    if (draft.expired) return { replies: [], toast: this.vi('broadcast.draftExpired') };
    if (draft.owner !== event.fromUserId) return { replies: [], toast: this.vi('broadcast.notYourDraft', { name: draft.ownerName }) };
    const topic = /^bc:topic:(urgent|news)$/.exec(data);
    if (topic && draft.step === 'topic') return (await this.continueDraft(event, 'topic', draft.data, topic[1] === 'urgent' ? '1' : '2')) ?? { replies: [] };
    if (data === 'bc:discard') {
      await this.deps.repo.deleteDraft(event.chatId);
      return this.say(this.vi('broadcast.draftCancelled'));
    }
    if (data === 'bc:send' && draft.step === 'confirm') {
      await this.deps.repo.deleteDraft(event.chatId);
      const d = draft.data;
      const b = await this.create({
        topic: d.topic as Topic,
        textVi: String(d.textVi),
        textEn: (d.textEn as string | null) ?? null,
        communes: (d.communes as string[] | null) ?? null,
        createdBy: `telegram:${event.fromUserId}`,
        originChatId: event.chatId,
      });
      return this.say(this.vi('broadcast.started', { id: b.id, total: b.total, name: event.fromName }), [{ id: `bc:stop:${b.id}`, label: this.vi('broadcast.stop') }]);
    }
    return { replies: [], toast: this.vi('broadcast.noDraft') };
  }

  private async cancelCommand(event: GroupEvent, arg: string | undefined): Promise<GroupEventResult> {
    const id = Number(arg?.trim());
    const b = Number.isInteger(id) ? await this.deps.repo.findBroadcast(id) : null;
    if (!b || b.originChatId !== event.chatId) return this.say(this.vi('broadcast.notYours'));
    const ok = await this.cancel(b.id);
    return this.say(this.vi(ok ? 'broadcast.stopped' : 'broadcast.notRunning'));
  }
}

/** A `/thongbao` draft is dropped this long after it was started. */
export const DRAFT_TTL_MS = 30 * 60_000;

export const BROADCAST_ACTION_NAMES = ['subscribeAll', 'subscribeUrgent', 'unsubscribe', 'subscriptionStatus', 'syncSubscription'] as const;
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
  'broadcast.forCommune',
  'broadcast.askCommunes',
  'broadcast.askTopic',
  'broadcast.topicUrgent',
  'broadcast.topicNews',
  'broadcast.pickTopic',
  'broadcast.unknownCommune',
  'broadcast.askTextVi',
  'broadcast.askTextEn',
  'broadcast.textLength',
  'broadcast.useButtons',
  'broadcast.send',
  'broadcast.discard',
  'broadcast.draftCancelled',
  'broadcast.preview',
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
