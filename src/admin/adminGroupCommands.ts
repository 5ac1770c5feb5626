import type { GroupEvent, GroupEventHandler, GroupEventResult } from '../groups/GroupEvents';
import type { CampaignFigures } from '../campaign/CampaignFigures';
import { parseDateRange, type DateRange, type Ratio } from '../campaign/figures';
import type { Translator } from '../engine/contracts';
import type { Locality } from '../locality/localitySchema';
import type { Logger } from '../logger';
import type { Outbound } from '../outbound/Outbound';
import type { InboxService } from '../records/InboxService';
import { scopeOfChat } from '../records/officialsScope';
import { LOGIN_LINK_MINUTES, type AdminAuth } from './AdminAuth';

export interface AdminGroupCommandsDeps {
  auth: AdminAuth;
  figures: CampaignFigures;
  inbox: InboxService;
  outbound: Outbound;
  locality: Locality;
  i18n: Translator;
  log: Logger;
  districtChatId: string | null;
  /** The server's public address (PUBLIC_URL), for the dashboard links; null when not configured. */
  publicUrl: string | null;
  formatTime: (d: Date) => string;
  clock: () => number;
}

/**
 * The dashboard's commands in officials' groups: `/dangnhap` (a one-time sign-in link in a private chat; the group
 * gives the role), `/thongke` (the scope's figures against the targets, and the dashboard link) and
 * `/timbaocao <mã>` (a record of the scope by reference, without personal data).
 */
export function createAdminGroupCommands(deps: AdminGroupCommandsDeps): GroupEventHandler {
  const t = (key: string, vars?: Record<string, unknown>) => deps.i18n.t('vi', `admin.${key}`, vars);
  const say = (text: string): GroupEventResult => ({ replies: [{ kind: 'text', text }] });
  const dashboard = deps.publicUrl ? `${deps.publicUrl}/admin` : null;

  const ratioLine = (label: string, r: Ratio, target: string) =>
    r.percent === null
      ? t('tkCountOnly', { label, count: r.count })
      : t('tkRatio', { label, count: r.count, total: r.denominator!.value, percent: r.percent.toLocaleString('vi-VN'), target, verdict: t(r.met ? 'tkMet' : 'tkNotMet') });

  async function login(event: GroupEvent): Promise<GroupEventResult> {
    const scope = scopeOfChat(deps.locality, deps.districtChatId, event.chatId);
    if (!scope) return say(t('tkNotOfficialsGroup'));
    if (!deps.publicUrl) return say(t('loginNoPublicUrl'));
    const token = await deps.auth.issueLoginToken({ id: `telegram:${event.fromUserId}`, name: event.fromName, scope });
    const url = `${deps.publicUrl}/admin/l/${token}`;
    try {
      await deps.outbound.send('telegram', event.fromUserId, [{ kind: 'text', text: t('loginLink', { url, minutes: LOGIN_LINK_MINUTES }) }]);
    } catch (err) {
      deps.log.info({ channel: event.channel, eventId: event.eventId, err: { name: (err as Error).name } }, 'sign-in link could not be sent in a private chat');
      return say(t('loginNoPrivateChat', { name: event.fromName }));
    }
    return say(t('loginSent', { name: event.fromName, minutes: LOGIN_LINK_MINUTES }));
  }

  async function stats(event: GroupEvent): Promise<GroupEventResult> {
    const scope = scopeOfChat(deps.locality, deps.districtChatId, event.chatId);
    if (!scope) return say(t('tkNotOfficialsGroup'));
    const today = deps.figures.today(new Date(deps.clock()));
    const range = (parseDateRange({}, today) as { ok: true; range: DateRange }).range;
    const f = await deps.figures.figures(range, scope);
    const top = f.district ?? f.communes[0];
    if (!top) return say(t('tkNotOfficialsGroup'));
    const ts = f.targets;
    const where = scope.kind === 'district' ? deps.locality.district.vi : f.communes[0]!.name;
    const lines = [
      t('tkHead', { where, date: today }),
      ratioLine(t('tkInstalls'), top.installs, `> ${ts.smartphoneUsers.percent} %`),
      ratioLine(t('tkOfficials'), top.officials, `${ts.officials.percent} %`),
      t('tkDeclared', { n: top.declared }),
      t('tkField', { from: range.from, households: top.field.householdsVisited, phones: top.field.phonesChecked, helped: top.field.installsHelped }),
      t('tkRecords', { n: top.records.declaration + top.records.symptoms + top.records.entrant, open: top.records.open, urgent: top.records.urgent }),
    ];
    const behind = f.communes.filter((c) => c.behind);
    if (scope.kind === 'district' && behind.length) lines.push(t('tkBehind', { list: behind.map((c) => c.name).join(', ') }));
    lines.push(t('tkReportDue', { to: f.report.to.vi, due: f.report.due }));
    lines.push(dashboard ? t('tkDashboard', { url: dashboard }) : t('loginNoPublicUrl'));
    return say(lines.join('\n'));
  }

  async function find(event: GroupEvent, arg: string | undefined): Promise<GroupEventResult> {
    const scope = scopeOfChat(deps.locality, deps.districtChatId, event.chatId);
    if (!scope) return say(t('tkNotOfficialsGroup'));
    const reference = (arg ?? '').trim().toUpperCase();
    if (!/^[A-Z]{2}-\d{6}-\d{4}$/.test(reference)) return say(t('findUsage'));
    const record = await deps.inbox.find(reference, scope);
    if (!record) return say(t('findNone', { reference }));
    const history = await deps.inbox.history(record);
    const lines = [
      `${record.reference} · ${t(`kind_${record.kind}`)} · ${deps.locality.communes.find((c) => c.id === record.commune)?.name ?? record.commune}`,
      `${t('urgency')}: ${t(`urgency_${record.urgency}`)} · ${t('status')}: ${t(`status_${record.status}`)}`,
      `${t('created')}: ${deps.formatTime(record.createdAt)}`,
      ...history.map((h) => `• ${deps.formatTime(h.changedAt)}: ${t(`status_${h.status}`)} · ${h.officialName}`),
    ];
    if (dashboard) lines.push(t('findLink', { url: `${dashboard}/records/${record.reference}` }));
    return say(lines.join('\n'));
  }

  return async (event) => {
    if (event.kind !== 'text' || !event.text) return null;
    const command = /^\/(\w+)(?:@\w+)?(?:\s+(.*))?$/s.exec(event.text.trim());
    switch (command?.[1]) {
      case 'dangnhap':
        return login(event);
      case 'thongke':
        return stats(event);
      case 'timbaocao':
        return find(event, command[2]);
      default:
        return null;
    }
  };
}
