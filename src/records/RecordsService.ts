import { formatPhoneVN } from '../engine/phone';
import type { Action, ActionContext, Translator } from '../engine/contracts';
import type { ChannelName, JsonValue, Locale, Reply } from '../engine/types';
import type { Locality } from '../locality/localitySchema';
import { userTag, type Logger } from '../logger';
import type { Outbound } from '../outbound/Outbound';
import type { PersonalData } from '../users/PersonalData';
import type { RecordKind, RecordsRepository, StoredRecord } from './RecordsRepository';
import { triage, type TriageRules } from './triage';

export interface RecordsServiceDeps {
  repo: RecordsRepository;
  locality: Locality;
  rules: TriageRules;
  i18n: Translator;
  outbound: Outbound;
  personalData: PersonalData;
  log: Logger;
  /** District officials' group: receives reports of communes that have no group of their own. */
  districtChatId: string | null;
  /** Called after a notice was queued, so it goes out now rather than at the next poll. */
  onNoticeQueued: () => void;
  /**
   * The keyed hash (HMAC under the server secret) an anonymous reporter's records are kept under instead of their
   * id: it lets the rate limit, "my reports" and erasure find them, and nobody without the secret can link it back.
   */
  anonymousId: (channel: ChannelName, userId: string) => string;
  /** How a report's photo reaches the officials' Telegram group; without it, only Telegram photos go (by file id). */
  noticePhoto?: NoticePhotoResolver;
}

/**
 * A photo a citizen attached, as the officials' Telegram group can be sent it: `url`, a Telegram file id or a web
 * address Telegram fetches itself; `upload`, a reference to bytes this server keeps, uploaded by the Telegram sender
 * (sent without the photo, with a note, once they are gone).
 */
export type NoticePhoto = { url: string } | { upload: string };
/** Turns a stored photo answer (`{fileRef, channel}`) into a NoticePhoto; null when it cannot be sent. */
export type NoticePhotoResolver = (photo: { fileRef: string; channel: string }) => NoticePhoto | null;

const telegramPhotosOnly: NoticePhotoResolver = (photo) => (photo.channel === 'telegram' ? { url: photo.fileRef } : null);

/** Prefix of the user id of a record whose reporter chose anonymity (the rest is a keyed hash, not an id). */
export const ANONYMOUS_PREFIX = 'anon:';

/** Lines of an officials' notice: the label's text key and the flow step whose answer it shows. */
const NOTICE_FIELDS: Record<RecordKind, Array<[string, string]>> = {
  declaration: [
    ['declaration.fWho', 'who'],
    ['declaration.fName', 'name'],
    ['declaration.fBirthYear', 'birthYear'],
    ['declaration.fGender', 'gender'],
    ['declaration.fPhone', 'phone'],
    ['declaration.fAddress', 'address'],
    ['declaration.fSymptoms', 'symptoms'],
    ['declaration.fDanger', 'danger'],
    ['declaration.fTravel', 'travel'],
    ['declaration.fContact', 'contact'],
    ['declaration.fChronic', 'chronic'],
    ['declaration.fConsent', 'consent'],
  ],
  symptoms: [
    ['declaration.fSymptoms', 'symptoms'],
    ['declaration.fDanger', 'danger'],
    ['declaration.fPhone', 'phone'],
    ['declaration.fAddress', 'address'],
  ],
  entrant: [
    ['report.fPlace', 'place'],
    ['report.fLocation', 'location'],
    ['report.fWhen', 'when'],
    ['report.fDescription', 'description'],
    ['report.fPhoto', 'photo'],
  ],
  callback: [['declaration.fPhone', 'phone']],
};

export const RECORD_ACTION_NAMES = [
  'useProfileCommune',
  'submitDeclaration',
  'submitSymptoms',
  'submitEntrantReport',
  'listMyReports',
  'eraseMyData',
  'optInDaily',
  'checkEnrolment',
  'submitDailyUpdate',
  'submitCallback',
] as const;
export type RecordActionName = (typeof RECORD_ACTION_NAMES)[number];

/** Text keys the records code uses outside flows; start-up checks them in every locale. */
export const RECORDS_TEXT_KEYS = [
  'records.rateLimited',
  'records.routed',
  'records.routedPush',
  'records.routedNoGroup',
  'records.noCommune',
  'records.notEnrolled',
  'records.status_new',
  'records.status_delivered',
  'records.delivered',
  'records.status_acknowledged',
  'records.status_resolved',
  'records.kind_declaration',
  'records.kind_symptoms',
  'records.kind_entrant',
  'records.kind_callback',
  'records.statusChanged',
  'records.noReports',
  'records.reportLine',
  'triage.noCall',
  'officials.urgency_urgent',
  'officials.urgency_notice',
  'officials.urgency_info',
  'officials.urgency_noticeAnonymous',
  'officials.anonymous',
  'officials.reporterPhone',
  'officials.ack',
  'officials.resolve',
  'officials.acknowledgedBy',
  'officials.resolvedBy',
  'officials.notYourGroup',
  'officials.redacted',
  'officials.digest',
  'officials.groupMissing',
  'officials.undeliverable',
  'officials.photoRefused',
  'officials.alreadyDone',
  'officials.updated',
  'officials.missedDay',
  'officials.dailyWorse',
  'officials.triage',
  'officials.rules',
];

/** Officials read notices in Vietnamese. */
const OFFICIALS_LOCALE: Locale = 'vi';

/**
 * Turns confirmed conversations into records: triage, reference numbers, the officials' notice, the citizen's
 * status updates, home-quarantine follow-up and deletion. The flows name its actions (`submitDeclaration`, ...).
 */
export class RecordsService {
  private readonly dateFormat: Intl.DateTimeFormat;
  private readonly timeFormat: Intl.DateTimeFormat;

  constructor(private readonly deps: RecordsServiceDeps) {
    const timeZone = deps.locality.records.timezone;
    this.dateFormat = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    this.timeFormat = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit', hourCycle: 'h23' });
  }

  get repo(): RecordsRepository {
    return this.deps.repo;
  }

  /** Local calendar date (YYYY-MM-DD) in the district's time zone. */
  localDate(now: Date): string {
    return this.dateFormat.format(now);
  }

  localHour(now: Date): number {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone: this.deps.locality.records.timezone, hour: '2-digit', hourCycle: 'h23' }).formatToParts(now);
    return Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  }

  addDays(date: string, days: number): string {
    const d = new Date(`${date}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  /** The officials' group for a commune: its own, or the district's. */
  noticeChatFor(commune: string): string | null {
    return this.deps.locality.communes.find((c) => c.id === commune)?.officialsTelegramChatId ?? this.deps.districtChatId;
  }

  communeName(commune: string): string {
    return this.deps.locality.communes.find((c) => c.id === commune)?.name ?? commune;
  }

  private t(locale: Locale, key: string, vars?: Record<string, unknown>): string {
    return this.deps.i18n.t(locale, key, vars);
  }

  /** The notice an officials' group receives: reference, kind, urgency, details; buttons to acknowledge and resolve. */
  renderNotice(record: StoredRecord, lines: string[], photo: NoticePhoto | null, voiceRef: string | null = null): Reply[] {
    const vi = OFFICIALS_LOCALE;
    // An anonymous report has no one to call: it is never labelled "call".
    const urgency = record.urgency === 'notice' && !record.reporterVisible ? 'noticeAnonymous' : record.urgency;
    const head = [
      `${this.t(vi, `officials.urgency_${urgency}`)} · ${record.reference}`,
      `${this.t(vi, `records.kind_${record.kind}`)} · ${this.communeName(record.commune)}`,
      ...(record.triageLevel ? [`${this.t(vi, 'officials.triage')}: ${this.triageLevelName(record.triageLevel)}${record.ruleVersion ? ` (${this.t(vi, 'officials.rules')} ${record.ruleVersion})` : ''}`] : []),
    ];
    // Text and buttons first, the photo after: a photo the platform refuses never holds the notice back.
    const replies: Reply[] = [
      {
        kind: 'choices',
        text: [...head, '', ...lines].join('\n'),
        options: [
          { id: `rec:ack:${record.id}`, label: this.t(vi, 'officials.ack') },
          { id: `rec:done:${record.id}`, label: this.t(vi, 'officials.resolve') },
        ],
      },
    ];
    if (photo && 'url' in photo) replies.push({ kind: 'image', url: photo.url, caption: record.reference });
    if (photo && 'upload' in photo) replies.push({ kind: 'picture', id: 'report-photo', ref: photo.upload, alt: this.t(vi, 'officials.photoRefused', { reference: record.reference }), caption: record.reference });
    if (voiceRef) replies.push({ kind: 'voice', ref: voiceRef, caption: record.reference });
    return replies;
  }

  /** A triage level as officials say it ("Cấp cứu"), from `officials.level_<level>`; a level without a text shows its code. */
  triageLevelName(level: string): string {
    const key = `officials.level_${level}`;
    return this.deps.i18n.has(OFFICIALS_LOCALE, key) ? this.t(OFFICIALS_LOCALE, key) : level;
  }

  private noticeLines(kind: RecordKind, ctx: ActionContext, reporterVisible: boolean): string[] {
    const vi = OFFICIALS_LOCALE;
    const lines = NOTICE_FIELDS[kind]
      .filter(([, step]) => ctx.answers[step] !== undefined)
      .map(([label, step]) => `${this.t(vi, label)}: ${ctx.display(step, vi)}`);
    if (kind === 'entrant') {
      lines.push(reporterVisible ? `${this.t(vi, 'officials.reporterPhone')}: ${typeof ctx.answers.phone === 'string' ? formatPhoneVN(ctx.answers.phone) : '—'}` : this.t(vi, 'officials.anonymous'));
    }
    return lines;
  }

  /**
   * What the citizen is told about where their record goes. Never "the station has been told" at this point: the
   * notice is only queued. With an officials' group it is on its way (and a channel that can push says so when it
   * arrives: `records.delivered`); without one, an official will see it on the dashboard, and here is a phone to call.
   */
  private noticeLine(record: StoredRecord, ctx: ActionContext, reporterVisible: boolean): string {
    if (record.noticeChatId) return this.t(ctx.locale, reporterVisible && this.deps.outbound.has(ctx.channel) ? 'records.routedPush' : 'records.routed');
    const commune = this.deps.locality.communes.find((c) => c.id === record.commune);
    const station = commune?.healthStation;
    const contact = station?.phone ? `${station.name}: ${station.phone}` : commune?.helpContact?.phone ? `${commune.helpContact.name}: ${commune.helpContact.phone}` : this.deps.locality.hotlines[0]!.number;
    return this.t(ctx.locale, 'records.routedNoGroup', { contact });
  }

  private async submit(kind: RecordKind, ctx: ActionContext): Promise<{ record: StoredRecord; advice: string; offerDaily: boolean; noticeLine: string }> {
    const now = new Date(ctx.now);
    const commune = typeof ctx.answers.commune === 'string' ? ctx.answers.commune : ctx.profile.commune;
    if (!commune) throw new Error(`Flow for ${kind}: no commune in the answers or the profile (a flow must ask it before submitting)`);
    const reporterVisible = kind !== 'entrant' || ctx.answers.anonymous !== true;
    const result = kind === 'entrant' || kind === 'callback' ? null : triage(this.deps.rules, ctx.answers);
    const data: Record<string, JsonValue> = { locale: ctx.locale };
    for (const [key, value] of Object.entries(ctx.answers)) {
      if (key === 'phone' && !reporterVisible) continue;
      data[key] = value;
    }
    const photo = ctx.answers.photo as { fileRef?: string; channel?: string } | null | undefined;
    const noticePhoto = photo && typeof photo.fileRef === 'string' && typeof photo.channel === 'string' ? (this.deps.noticePhoto ?? telegramPhotosOnly)({ fileRef: photo.fileRef, channel: photo.channel }) : null;
    const lines = this.noticeLines(kind, ctx, reporterVisible);
    // A call-back request is a report (the person's voice and phone): it is kept as long as a symptoms report.
    const retention = this.deps.locality.records.retentionDays[kind === 'callback' ? 'symptoms' : kind];
    const voiceRef = kind === 'callback' && typeof ctx.answers.voice === 'string' ? ctx.answers.voice : null;
    const { record, created } = await this.deps.repo.createRecord(
      {
        kind,
        channel: ctx.channel,
        // Anonymous: no id, no chat id, no phone is stored; only the keyed hash.
        userId: reporterVisible ? ctx.userId : this.anonymousId(ctx),
        commune,
        urgency: result?.urgency ?? 'notice',
        data,
        triageLevel: result?.level,
        ruleVersion: result?.ruleVersion,
        reporterVisible,
        idempotencyKey: `${ctx.channel}:${ctx.eventId}`,
        noticeChatId: this.noticeChatFor(commune),
        localDay: this.localDate(now).replace(/-/g, '').slice(2),
        now,
        deleteAfter: new Date(now.getTime() + retention * 86_400_000),
      },
      (rec) => this.renderNotice(rec, lines, noticePhoto, voiceRef),
    );
    if (created) {
      // An anonymous report is not tied to the reporter even by the log's user tag.
      this.deps.log.info({ kind, reference: record.reference, urgency: record.urgency, commune, ...(reporterVisible ? { user: userTag(`${ctx.channel}:${ctx.userId}`) } : {}), notice: record.noticeChatId !== null }, 'record stored');
      if (!record.noticeChatId) this.deps.log.warn({ commune, reference: record.reference }, "this commune's reports go to no officials' group (they wait on the dashboard): set the commune's officialsTelegramChatId in the locality file, or OFFICIALS_TELEGRAM_CHAT_ID for the district group");
      this.deps.onNoticeQueued();
    }
    let advice = result ? this.t(ctx.locale, result.advice) : '';
    if (result && ctx.answers.consent === false) advice += `\n${this.t(ctx.locale, 'triage.noCall')}`;
    return { record, advice, offerDaily: result?.offerDailyUpdates === true && this.deps.outbound.has(ctx.channel), noticeLine: this.noticeLine(record, ctx, reporterVisible) };
  }

  private anonymousId(ctx: Pick<ActionContext, 'channel' | 'userId'>): string {
    return `${ANONYMOUS_PREFIX}${this.deps.anonymousId(ctx.channel, ctx.userId)}`;
  }

  /** Every id a person's records may be kept under: their own, and the hash of their anonymous reports. */
  idsOf(channel: ChannelName, userId: string): string[] {
    return [userId, this.anonymousId({ channel, userId })];
  }

  /** A per-person limit on each kind of record, so that one person (or a script) cannot flood the officials. */
  private async rateLimited(ctx: ActionContext, kind: RecordKind): Promise<boolean> {
    const since = new Date(ctx.now - 3600_000);
    const limits = this.deps.locality.records;
    const limit = kind === 'declaration' ? limits.declarationsPerHour : limits.reportsPerHour;
    return (await this.deps.repo.countRecordsSince(ctx.channel, this.idsOf(ctx.channel, ctx.userId), kind, since)) >= limit;
  }

  /** The actions the records flows name. */
  actions(): Record<RecordActionName, Action> {
    return {
      useProfileCommune: async ({ profile }) => (profile.commune ? { ok: true, output: { commune: profile.commune } } : { ok: false, message: 'records.noCommune' }),
      submitDeclaration: async (ctx) => {
        if (await this.rateLimited(ctx, 'declaration')) return { ok: false, message: 'records.rateLimited' };
        const { record, advice, offerDaily, noticeLine } = await this.submit('declaration', ctx);
        return { ok: true, output: { reference: record.reference, recordId: record.id, advice, offerDaily, noticeLine } };
      },
      submitSymptoms: async (ctx) => {
        if (await this.rateLimited(ctx, 'symptoms')) return { ok: false, message: 'records.rateLimited' };
        const { record, advice, noticeLine } = await this.submit('symptoms', ctx);
        return { ok: true, output: { reference: record.reference, recordId: record.id, advice, noticeLine } };
      },
      submitCallback: async (ctx) => {
        if (await this.rateLimited(ctx, 'callback')) return { ok: false, message: 'records.rateLimited' };
        const { record, noticeLine } = await this.submit('callback', ctx);
        return { ok: true, output: { reference: record.reference, recordId: record.id, noticeLine } };
      },
      submitEntrantReport: async (ctx) => {
        if (await this.rateLimited(ctx, 'entrant')) return { ok: false, message: 'records.rateLimited' };
        const { record, noticeLine } = await this.submit('entrant', ctx);
        return { ok: true, output: { reference: record.reference, recordId: record.id, noticeLine } };
      },
      listMyReports: async ({ channel, userId, locale }) => {
        const records = await this.deps.repo.recordsOfUser(channel, this.idsOf(channel, userId), 10);
        const delivered = await this.deps.repo.deliveredRecordIds(records.filter((r) => r.status === 'new').map((r) => r.id));
        const list = records.length
          ? records
              .map((r) =>
                this.t(locale, 'records.reportLine', {
                  reference: r.reference,
                  kind: this.t(locale, `records.kind_${r.kind}`),
                  date: this.localDate(r.createdAt).split('-').reverse().join('/'),
                  status: this.t(locale, `records.status_${r.status === 'new' && delivered.has(r.id) ? 'delivered' : r.status}`),
                }),
              )
              .join('\n')
          : this.t(locale, 'records.noReports');
        return { ok: true, output: { reportList: list } };
      },
      eraseMyData: async ({ channel, userId }) => {
        await this.deps.personalData.eraseUser(channel, userId, { keep: ['sessions'] });
        return { ok: true, output: {} };
      },
      optInDaily: async (ctx) => {
        const recordId = Number(ctx.answers.recordId);
        const record = Number.isFinite(recordId) ? await this.deps.repo.findRecord(recordId) : null;
        if (!record || record.channel !== ctx.channel || record.userId !== ctx.userId) throw new Error('optInDaily: the declaration to follow up is missing from the answers (the flow must submit it first)');
        const today = this.localDate(new Date(ctx.now));
        await this.deps.repo.enrol({
          recordId: record.id,
          channel: ctx.channel,
          userId: ctx.userId,
          commune: record.commune,
          startsOn: today,
          endsOn: this.addDays(today, this.deps.locality.records.quarantineDays - 1),
          now: new Date(ctx.now),
        });
        return { ok: true, output: {} };
      },
      checkEnrolment: async ({ channel, userId, now }) => {
        const enrolment = await this.deps.repo.activeEnrolment(channel, userId, this.localDate(new Date(now)));
        return enrolment ? { ok: true, output: { enrolmentId: enrolment.id } } : { ok: false, message: 'records.notEnrolled' };
      },
      submitDailyUpdate: async (ctx) => {
        const now = new Date(ctx.now);
        const day = this.localDate(now);
        const enrolment = await this.deps.repo.activeEnrolment(ctx.channel, ctx.userId, day);
        if (!enrolment) return { ok: false, message: 'records.notEnrolled' };
        if ((await this.deps.repo.countDailyUpdatesSince(enrolment.id, new Date(ctx.now - 3600_000))) >= this.deps.locality.records.reportsPerHour) {
          return { ok: false, message: 'records.rateLimited' };
        }
        const symptoms = Array.isArray(ctx.answers.symptoms) ? ctx.answers.symptoms.map(String) : [];
        const temperature = typeof ctx.answers.temperature === 'number' ? ctx.answers.temperature : null;
        await this.deps.repo.addDailyUpdate({ enrolmentId: enrolment.id, day, temperature, symptoms, idempotencyKey: `${ctx.channel}:${ctx.eventId}`, now });
        const danger = Array.isArray(ctx.answers.danger) ? ctx.answers.danger.map(String).filter((d) => d !== 'none') : [];
        const worse = danger.length > 0 || symptoms.some((s) => s !== 'none') || (temperature !== null && temperature >= 38);
        // What the person is told next (flows/daily.json branches on it): a danger sign is 115, fever or a symptom the station.
        const dailyLevel = danger.length > 0 || symptoms.includes('breathing') ? 'danger' : worse ? 'worse' : 'ok';
        const record = await this.deps.repo.findRecord(enrolment.recordId);
        const chat = record?.noticeChatId ?? null;
        if (worse && record && chat) {
          const text = this.t(OFFICIALS_LOCALE, 'officials.dailyWorse', {
            reference: record.reference,
            day,
            symptoms: [ctx.display('symptoms', OFFICIALS_LOCALE), ...(danger.length > 0 ? [ctx.display('danger', OFFICIALS_LOCALE)] : [])].join('; '),
            temperature: temperature === null ? '—' : `${temperature}°C`,
          });
          await this.deps.repo.enqueueNotice({ recordId: record.id, channel: 'telegram', recipient: chat, replies: [{ kind: 'text', text }], now });
          this.deps.onNoticeQueued();
        }
        return { ok: true, output: { dailyLevel } };
      },
    };
  }

  /**
   * The one state machine of a record's status (new → acknowledged → resolved), for the group's buttons and the
   * dashboard alike: the change is stored with who made it, and the citizen is told.
   */
  async changeStatus(
    id: number,
    status: 'acknowledged' | 'resolved',
    by: { officialId: string; officialName: string; chatId: string },
    now: Date,
    authorize?: (record: StoredRecord) => boolean,
  ): ReturnType<RecordsRepository['changeStatus']> {
    const result = await this.deps.repo.changeStatus(id, status, by, now, authorize);
    if (result.ok && result.changed) await this.notifyCitizen(result.record, now);
    return result;
  }

  /** The officials' notice of a record went out: the citizen is told (only now), on a channel that can push. */
  async noticeDelivered(recordId: number, now: Date): Promise<void> {
    const record = await this.deps.repo.findRecord(recordId);
    if (!record || !this.deps.outbound.has(record.channel) || record.userId.startsWith(ANONYMOUS_PREFIX)) return;
    const locale: Locale = typeof record.data.locale === 'string' && this.deps.i18n.locales.includes(record.data.locale) ? record.data.locale : 'vi';
    const text = this.t(locale, 'records.delivered', { reference: record.reference, kind: this.t(locale, `records.kind_${record.kind}`) });
    await this.deps.repo.enqueueNotice({ recordId: record.id, channel: record.channel, recipient: record.userId, replies: [{ kind: 'text', text }], now });
    this.deps.onNoticeQueued();
  }

  /** Tells the citizen that their report changed status, on their own channel when it can push. */
  async notifyCitizen(record: StoredRecord, now: Date): Promise<void> {
    // An anonymous reporter cannot be told: nothing stored says who they are.
    if (!this.deps.outbound.has(record.channel) || record.userId.startsWith(ANONYMOUS_PREFIX)) return;
    const locale: Locale = typeof record.data.locale === 'string' && this.deps.i18n.locales.includes(record.data.locale) ? record.data.locale : 'vi';
    const text = this.t(locale, 'records.statusChanged', {
      reference: record.reference,
      kind: this.t(locale, `records.kind_${record.kind}`),
      status: this.t(locale, `records.status_${record.status}`),
    });
    await this.deps.repo.enqueueNotice({ recordId: record.id, channel: record.channel, recipient: record.userId, replies: [{ kind: 'text', text }], now });
    this.deps.onNoticeQueued();
  }

  /** Deletes what is past its retention period, in every part that keeps personal data. */
  async purgeExpired(now: Date): Promise<Record<string, number>> {
    return this.deps.personalData.purgeExpired(now);
  }

  formatTime(date: Date): string {
    return this.timeFormat.format(date);
  }

  /** A text for officials (their groups read Vietnamese). */
  officialsText(key: string, vars?: Record<string, unknown>): string {
    return this.t(OFFICIALS_LOCALE, key, vars);
  }
}
