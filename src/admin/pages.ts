import { localized } from '../engine/localized';
import type { Broadcast } from '../broadcasts/BroadcastRepository';
import type { SourcedFigure } from '../campaign/campaignSchema';
import type { CampaignFiguresResult, CommuneFigures, FieldEntry } from '../campaign/CampaignFigures';
import type { Ratio } from '../campaign/figures';
import type { Locale } from '../engine/types';
import type { OfficialsScope } from '../records/officialsScope';
import type { InboxLine } from '../records/InboxService';
import type { StoredRecord } from '../records/RecordsRepository';
import type { AdminIdentity } from './AdminAuth';
import { html, type SafeHtml } from './html';
import { renderBarChart, renderLineChart } from './svgCharts';

/** What every page needs: the words, who is signed in, the form token, the commune names. */
export interface PageContext {
  t: (key: string, vars?: Record<string, unknown>) => string;
  locale: Locale;
  identity: AdminIdentity | null;
  csrf: string | null;
  communes: Array<{ id: string; name: string }>;
  district: string;
  /** The path of the page, for the navigation and the language switch. */
  path: string;
  /** An instant in the district's time zone ("15/07, 08:00"). */
  time: (d: Date) => string;
  /** A triage level as officials say it ("Cấp cứu", "Cách ly tại nhà"), never its rule code. */
  triageLevel: (code: string) => string;
}

const num = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toLocaleString('vi-VN'));
const pct = (p: number | null) => (p === null ? '—' : `${p.toLocaleString('vi-VN')} %`);

export function communeName(ctx: PageContext, id: string): string {
  return ctx.communes.find((c) => c.id === id)?.name ?? id;
}

export function scopeLabel(ctx: PageContext, scope: OfficialsScope): string {
  return scope.kind === 'district' ? ctx.t('scopeDistrict', { district: ctx.district }) : ctx.t('scopeCommune', { commune: communeName(ctx, scope.commune) });
}

export function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">`;
}

export function layout(ctx: PageContext, title: string, body: SafeHtml, options: { refreshSeconds?: number } = {}): string {
  const id = ctx.identity;
  const nav: Array<[string, string]> = id
    ? [
        ['/admin', ctx.t('navCampaign')],
        ['/admin/inbox', ctx.t('navInbox')],
        ['/admin/announcements', ctx.t('navAnnouncements')],
        ['/admin/venues', ctx.t('navVenues')],
        ...(id.scope.kind === 'district'
          ? ([
              ['/admin/accounts', ctx.t('navAccounts')],
              ['/admin/audit', ctx.t('navAudit')],
            ] as Array<[string, string]>)
          : []),
      ]
    : [];
  const other: Locale = ctx.locale === 'vi' ? 'en' : 'vi';
  return html`<!doctype html>
<html lang="${ctx.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<title>${title} · ${ctx.t('appName')}</title>
<link rel="stylesheet" href="/admin/assets/admin.css">
<script src="/admin/assets/admin.js" defer></script>
</head>
<body>
<header class="top">
<strong class="brand">${ctx.t('appName')} · ${ctx.district}</strong>
<nav>${nav.map(([href, label]) => html`<a href="${href}"${ctx.path === href ? html` aria-current="page"` : ''}>${label}</a>`)}</nav>
<div class="who">
<a href="/admin/lang/${other}?back=${encodeURIComponent(ctx.path)}" lang="${other}">${other === 'en' ? 'English' : 'Tiếng Việt'}</a>
${id
  ? html`<span>${id.name} · ${scopeLabel(ctx, id.scope)}</span>
<form method="post" action="/admin/logout" class="inline">${csrfField(ctx)}<button type="submit">${ctx.t('logout')}</button></form>`
  : ''}
</div>
</header>
<main>
${body}
</main>
</body>
</html>`.value;
}

export function messagePage(ctx: PageContext, title: string, message: string, link?: { href: string; label: string }): string {
  return layout(ctx, title, html`<h1>${title}</h1><p class="notice">${message}</p>${link ? html`<p><a href="${link.href}">${link.label}</a></p>` : ''}`);
}

// ---- sign-in ----------------------------------------------------------------------------------------------

export function loginPage(ctx: PageContext, preToken: string, problem: string | null): string {
  return layout(
    ctx,
    ctx.t('loginTitle'),
    html`<h1>${ctx.t('loginTitle')}</h1>
<section class="card">
<h2>${ctx.t('loginTelegramTitle')}</h2>
<p>${ctx.t('loginTelegramHelp')}</p>
</section>
<section class="card">
<h2>${ctx.t('loginPasswordTitle')}</h2>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<form method="post" action="/admin/login" class="stack">
<input type="hidden" name="_csrf" value="${preToken}">
<label>${ctx.t('username')} <input name="username" autocomplete="username" required maxlength="64"></label>
<label>${ctx.t('password')} <input name="password" type="password" autocomplete="current-password" required maxlength="200"></label>
<button type="submit">${ctx.t('loginButton')}</button>
</form>
</section>`,
  );
}

export function linkConfirmPage(ctx: PageContext, token: string): string {
  return layout(
    ctx,
    ctx.t('loginTitle'),
    html`<h1>${ctx.t('loginTitle')}</h1>
<p>${ctx.t('linkConfirm')}</p>
<form method="post" action="/admin/l/${token}"><button type="submit" class="primary">${ctx.t('loginButton')}</button></form>`,
  );
}

// ---- campaign ---------------------------------------------------------------------------------------------

function rangeForm(ctx: PageContext, action: string, range: { from: string; to: string }, extra: SafeHtml | string = ''): SafeHtml {
  return html`<form method="get" action="${action}" class="filters">
${extra}
<label>${ctx.t('from')} <input type="date" name="from" value="${range.from}" required></label>
<label>${ctx.t('to')} <input type="date" name="to" value="${range.to}" required></label>
<button type="submit">${ctx.t('show')}</button>
</form>`;
}

function ratioCell(r: Ratio): SafeHtml {
  return html`<td data-value="${r.percent ?? -1}" class="${r.met === false ? 'bad' : r.met ? 'good' : ''}">${pct(r.percent)}</td>`;
}

function sourceText(ctx: PageContext, f: SourcedFigure | null): string {
  if (!f) return ctx.t('noSource');
  return f.date ? `${f.source} (${f.date})` : f.source;
}

function denominatorCell(ctx: PageContext, f: SourcedFigure | null): SafeHtml {
  return html`<td data-value="${f?.value ?? -1}" title="${sourceText(ctx, f)}">${f?.value === null || !f ? html`<span class="muted">${ctx.t('unknown')}</span>` : num(f.value)}</td>`;
}

function summaryCard(ctx: PageContext, title: string, r: Ratio, target: string): SafeHtml {
  return html`<div class="kpi ${r.met === false ? 'bad' : r.met ? 'good' : ''}">
<div class="kpi-title">${title}</div>
<div class="kpi-value">${r.percent === null ? num(r.count) : pct(r.percent)}</div>
<div class="kpi-sub">${r.percent === null ? ctx.t('countNoDenominator') : ctx.t('countOf', { count: num(r.count), total: num(r.denominator?.value) })} · ${ctx.t('target')} ${target}</div>
<div class="kpi-src">${ctx.t('source')}: ${sourceText(ctx, r.denominator)}</div>
</div>`;
}


export function campaignPage(
  ctx: PageContext,
  f: CampaignFiguresResult,
  field: { entries: FieldEntry[]; formKey: string; today: string; problem: string | null; saved: boolean },
  reportRange: { from: string; to: string },
): string {
  const q = `from=${f.range.from}&to=${f.range.to}`;
  const ts = f.targets;
  const usersTarget = `${ts.smartphoneUsers.comparison === 'above' ? '>' : '≥'} ${ts.smartphoneUsers.percent} %${ts.smartphoneUsers.by ? ` (${ctx.t('by')} ${ts.smartphoneUsers.by})` : ''}`;
  const officialsTarget = `${ts.officials.comparison === 'above' ? '>' : '≥'} ${ts.officials.percent} %${ts.officials.by ? ` (${ctx.t('by')} ${ts.officials.by})` : ''}`;
  const top = f.district ?? (f.communes[0] ? { installs: f.communes[0].installs, officials: f.communes[0].officials, declared: f.communes[0].declared, field: f.communes[0].field, records: f.communes[0].records } : null);
  const behind = f.communes.filter((c) => c.behind);
  const officialBars = [
    ...f.communes.map((c) => ({ label: c.name, percent: c.officials.percent, count: c.officials.count })),
    ...f.agencies.map((a) => ({ label: a.name, percent: a.officials.percent, count: a.officials.count })),
  ];
  const row = (c: CommuneFigures) => html`<tr class="${c.behind ? 'behind' : ''}" data-commune="${c.id}">
<th scope="row">${c.name}${c.behind ? html` <span class="tag">${ctx.t('behind')}</span>` : ''}</th>
${denominatorCell(ctx, c.installs.denominator)}
<td data-value="${c.installs.count}">${num(c.installs.count)}</td>
${ratioCell(c.installs)}
<td data-value="${c.installsInRange}">${num(c.installsInRange)}</td>
${denominatorCell(ctx, c.officials.denominator)}
<td data-value="${c.officials.count}">${num(c.officials.count)}</td>
${ratioCell(c.officials)}
<td data-value="${c.declared}">${num(c.declared)}</td>
<td data-value="${c.field.householdsVisited}">${num(c.field.householdsVisited)}</td>
<td data-value="${c.field.phonesChecked}">${num(c.field.phonesChecked)}</td>
<td data-value="${c.field.installsHelped}">${num(c.field.installsHelped)}</td>
<td data-value="${c.records.declaration + c.records.symptoms + c.records.entrant}">${num(c.records.declaration + c.records.symptoms + c.records.entrant)}</td>
<td data-value="${c.records.open}" class="${c.records.open ? 'warn' : ''}">${num(c.records.open)}</td>
<td data-value="${c.records.meanAckMinutes ?? -1}">${num(c.records.meanAckMinutes)}</td>
${f.extraColumns.map((col) => html`<td data-value="${c.extra[col.id] ?? 0}">${num(c.extra[col.id] ?? 0)}</td>`)}
</tr>`;
  const communeChoices = ctx.identity?.scope.kind === 'commune' ? f.communes.filter((c) => c.id === (ctx.identity!.scope as { commune: string }).commune) : f.communes;
  return layout(
    ctx,
    ctx.t('campaignTitle'),
    html`<h1>${ctx.t('campaignTitle')} <small>${scopeLabel(ctx, f.scope)}</small></h1>
${rangeForm(ctx, '/admin', f.range)}
<section class="report-bar">
<p>${ctx.t('reportDue', { to: localized(f.report.to, ctx.locale), due: f.report.due })}</p>
${f.range.from !== reportRange.from || f.range.to !== reportRange.to ? html`<a class="button" href="/admin?from=${reportRange.from}&to=${reportRange.to}">${ctx.t('reportRange', { from: reportRange.from, to: reportRange.to })}</a>` : ''}
<a class="button primary" href="/admin/report.xlsx?${q}" download>${ctx.t('downloadXlsx')}</a>
<a class="button" href="/admin/report.csv?${q}" download>${ctx.t('downloadCsv')}</a>
</section>
${top
  ? html`<section class="kpis">
${summaryCard(ctx, ctx.t('kpiInstalls'), top.installs, usersTarget)}
${summaryCard(ctx, ctx.t('kpiOfficials'), top.officials, officialsTarget)}
<div class="kpi"><div class="kpi-title">${ctx.t('kpiDeclared')}</div><div class="kpi-value">${num(top.declared)}</div><div class="kpi-sub">${ctx.t('kpiDeclaredSub')}</div></div>
<div class="kpi"><div class="kpi-title">${ctx.t('kpiField')}</div><div class="kpi-value">${num(top.field.householdsVisited)}</div><div class="kpi-sub">${ctx.t('kpiFieldSub', { phones: num(top.field.phonesChecked), helped: num(top.field.installsHelped) })}</div></div>
<div class="kpi ${top.records.open ? 'warn' : ''}"><div class="kpi-title">${ctx.t('kpiRecords')}</div><div class="kpi-value">${num(top.records.declaration + top.records.symptoms + top.records.entrant)}</div><div class="kpi-sub">${ctx.t('kpiRecordsSub', { open: num(top.records.open), urgent: num(top.records.urgent), minutes: num(top.records.meanAckMinutes) })}</div></div>
</section>`
  : ''}
${behind.length ? html`<p class="alert">${ctx.t('behindList', { n: behind.length })} ${behind.map((c) => c.name).join(', ')}</p>` : ''}
<section class="charts">
<figure>${renderBarChart(ctx.t('chartInstalls'), f.communes.map((c) => ({ label: c.name, percent: c.installs.percent, count: c.installs.count })), ts.smartphoneUsers, ctx.t('noPercent'))}
<figcaption><a href="/admin/charts/installs.svg?${q}">${ctx.t('openChart')}</a></figcaption></figure>
<figure>${renderBarChart(ctx.t('chartOfficials'), officialBars, ts.officials, ctx.t('noPercent'))}
<figcaption><a href="/admin/charts/officials.svg?${q}">${ctx.t('openChart')}</a></figcaption></figure>
<figure>${renderLineChart(ctx.t('chartTrend'), f.trend.map((p) => ({ day: p.day, value: p.installs })))}
<figcaption><a href="/admin/charts/trend.svg?${q}">${ctx.t('openChart')}</a></figcaption></figure>
</section>
<h2>${ctx.t('tableCommunes')}</h2>
<p class="muted">${ctx.t('tableHelp')}</p>
<div class="scroll"><table class="sortable" id="communes">
<thead><tr>
<th data-type="text">${ctx.t('colCommune')}</th><th>${ctx.t('colUsers')}</th><th>${ctx.t('colInstalls')}</th><th>${ctx.t('colPercent')}</th><th>${ctx.t('colInRange')}</th>
<th>${ctx.t('colOfficials')}</th><th>${ctx.t('colOfficialsInstalled')}</th><th>${ctx.t('colPercent')}</th><th>${ctx.t('colDeclared')}</th>
<th>${ctx.t('colHouseholds')}</th><th>${ctx.t('colPhones')}</th><th>${ctx.t('colHelped')}</th><th>${ctx.t('colRecords')}</th><th>${ctx.t('colOpen')}</th><th>${ctx.t('colAck')}</th>
${f.extraColumns.map((col) => html`<th>${localized(col.label, ctx.locale)}</th>`)}
</tr></thead>
<tbody>${f.communes.map(row)}</tbody>
</table></div>
${f.extraTables.map(
  (x) => html`<h2>${localized(x.title, ctx.locale)}</h2>
<div class="scroll"><table id="${x.id}"><thead><tr><th></th>${x.columns.map((c) => html`<th>${localized(c.label, ctx.locale)}</th>`)}</tr></thead>
<tbody>${x.rows.map((r) => html`<tr data-row="${r.id}"><th scope="row">${localized(r.label, ctx.locale)}</th>${x.columns.map((c) => html`<td data-value="${r.values[c.id] ?? 0}">${num(r.values[c.id] ?? 0)}</td>`)}</tr>`)}</tbody></table></div>`,
)}
${f.agencies.length
  ? html`<h2>${ctx.t('tableAgencies')}</h2>
<div class="scroll"><table class="sortable" id="agencies">
<thead><tr><th data-type="text">${ctx.t('colAgency')}</th><th>${ctx.t('colOfficials')}</th><th>${ctx.t('colOfficialsInstalled')}</th><th>${ctx.t('colPercent')}</th></tr></thead>
<tbody>${f.agencies.map((a) => html`<tr class="${a.officials.met === false ? 'behind' : ''}"><th scope="row">${a.name}</th>${denominatorCell(ctx, a.officials.denominator)}<td data-value="${a.officials.count}">${num(a.officials.count)}</td>${ratioCell(a.officials)}</tr>`)}</tbody>
</table></div>`
  : ''}
<h2 id="field">${ctx.t('fieldTitle')}</h2>
<p class="muted">${ctx.t('fieldHelp')}</p>
${field.problem ? html`<p class="error" role="alert">${field.problem}</p>` : ''}
${field.saved ? html`<p class="notice" role="status">${ctx.t('fieldSaved')}</p>` : ''}
<form method="post" action="/admin/field" class="filters">
${csrfField(ctx)}<input type="hidden" name="key" value="${field.formKey}">
<label>${ctx.t('colCommune')} <select name="commune">${communeChoices.map((c) => html`<option value="${c.id}">${c.name}</option>`)}</select></label>
<label>${ctx.t('day')} <input type="date" name="day" value="${field.today}" max="${field.today}" required></label>
<label>${ctx.t('colHouseholds')} <input type="number" name="householdsVisited" min="0" max="100000" value="0" required></label>
<label>${ctx.t('colPhones')} <input type="number" name="phonesChecked" min="0" max="100000" value="0" required></label>
<label>${ctx.t('colHelped')} <input type="number" name="installsHelped" min="0" max="100000" value="0" required></label>
<button type="submit">${ctx.t('save')}</button>
</form>
${field.entries.length
  ? html`<div class="scroll"><table><thead><tr><th>${ctx.t('day')}</th><th>${ctx.t('colCommune')}</th><th>${ctx.t('colHouseholds')}</th><th>${ctx.t('colPhones')}</th><th>${ctx.t('colHelped')}</th><th>${ctx.t('enteredBy')}</th></tr></thead>
<tbody>${field.entries.map((e) => html`<tr><td>${e.day}</td><td>${communeName(ctx, e.commune)}</td><td>${num(e.householdsVisited)}</td><td>${num(e.phonesChecked)}</td><td>${num(e.installsHelped)}</td><td>${e.enteredBy}</td></tr>`)}</tbody></table></div>`
  : ''}
<h2>${ctx.t('sourcesTitle')}</h2>
<p class="muted">${ctx.t('sourcesHelp')}</p>`,
  );
}

// ---- inbox ------------------------------------------------------------------------------------------------

export interface InboxQuery {
  commune?: string;
  kind?: string;
  urgency?: string;
  status?: string;
  reference?: string;
  from: string;
  to: string;
}

function select(name: string, label: string, current: string | undefined, options: Array<[string, string]>, anyLabel: string): SafeHtml {
  return html`<label>${label} <select name="${name}"><option value="">${anyLabel}</option>${options.map(([v, l]) => html`<option value="${v}"${current === v ? html` selected` : ''}>${l}</option>`)}</select></label>`;
}

export function inboxPage(ctx: PageContext, q: InboxQuery, lines: InboxLine[], communes: Array<{ id: string; name: string }>, problem: string | null): string {
  const filters = html`${communes.length > 1 ? select('commune', ctx.t('colCommune'), q.commune, communes.map((c) => [c.id, c.name]), ctx.t('any')) : ''}
${select('kind', ctx.t('kind'), q.kind, ['declaration', 'symptoms', 'entrant'].map((k) => [k, ctx.t(`kind_${k}`)]), ctx.t('any'))}
${select('urgency', ctx.t('urgency'), q.urgency, ['urgent', 'notice', 'info'].map((k) => [k, ctx.t(`urgency_${k}`)]), ctx.t('any'))}
${select('status', ctx.t('status'), q.status, ['new', 'acknowledged', 'resolved'].map((k) => [k, ctx.t(`status_${k}`)]), ctx.t('any'))}
<label>${ctx.t('reference')} <input name="reference" value="${q.reference ?? ''}" placeholder="KB-210715-0001" maxlength="20"></label>`;
  return layout(
    ctx,
    ctx.t('inboxTitle'),
    html`<h1>${ctx.t('inboxTitle')}</h1>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
${rangeForm(ctx, '/admin/inbox', q, filters)}
<p class="muted">${ctx.t('inboxCount', { n: lines.length })}</p>
<div class="scroll"><table class="sortable" id="inbox">
<thead><tr><th data-type="text">${ctx.t('reference')}</th><th data-type="text">${ctx.t('kind')}</th><th data-type="text">${ctx.t('colCommune')}</th><th data-type="text">${ctx.t('urgency')}</th><th data-type="text">${ctx.t('status')}</th><th data-type="text">${ctx.t('created')}</th><th>${ctx.t('ackMinutes')}</th></tr></thead>
<tbody>${lines.map((l) => html`<tr class="${l.urgency === 'urgent' && l.status === 'new' ? 'behind' : ''}" data-reference="${l.reference}">
<th scope="row"><a href="/admin/records/${l.reference}">${l.reference}</a></th>
<td>${ctx.t(`kind_${l.kind}`)}</td><td>${communeName(ctx, l.commune)}</td>
<td><span class="tag ${l.urgency}">${ctx.t(`urgency_${l.urgency}`)}</span></td>
<td class="status">${ctx.t(`status_${l.status}`)}</td>
<td data-value="${l.createdAt.getTime()}">${ctx.time(l.createdAt)}</td>
<td data-value="${l.firstActionAt ? Math.round((l.firstActionAt.getTime() - l.createdAt.getTime()) / 60000) : -1}">${l.firstActionAt ? num(Math.round((l.firstActionAt.getTime() - l.createdAt.getTime()) / 60000)) : '—'}</td>
</tr>`)}</tbody>
</table></div>`,
  );
}

function fieldValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.map(fieldValue).join(', ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.latitude === 'number' && typeof o.longitude === 'number') return `${o.latitude}, ${o.longitude}`;
    return JSON.stringify(v);
  }
  return String(v);
}

export function recordPage(ctx: PageContext, record: StoredRecord, history: Array<{ status: string; officialName: string; changedAt: Date }>, time: (d: Date) => string, message: string | null): string {
  const fields = Object.entries(record.data).filter(([k]) => k !== 'locale' && k !== 'photo');
  return layout(
    ctx,
    record.reference,
    html`<p><a href="/admin/inbox">← ${ctx.t('navInbox')}</a></p>
<h1>${record.reference} <span class="tag ${record.urgency}">${ctx.t(`urgency_${record.urgency}`)}</span></h1>
${message ? html`<p class="notice" role="status">${message}</p>` : ''}
<dl class="facts">
<dt>${ctx.t('kind')}</dt><dd>${ctx.t(`kind_${record.kind}`)}</dd>
<dt>${ctx.t('colCommune')}</dt><dd>${communeName(ctx, record.commune)}</dd>
<dt>${ctx.t('status')}</dt><dd id="status">${ctx.t(`status_${record.status}`)}</dd>
<dt>${ctx.t('created')}</dt><dd>${time(record.createdAt)}</dd>
<dt>${ctx.t('triage')}</dt><dd>${record.triageLevel ? ctx.triageLevel(record.triageLevel) : '—'}</dd>
<dt>${ctx.t('reporter')}</dt><dd>${record.reporterVisible ? ctx.t('reporterVisible') : ctx.t('reporterAnonymous')}</dd>
</dl>
<h2>${ctx.t('answers')}</h2>
<p class="muted">${ctx.t('auditNotice')}</p>
<dl class="facts">${fields.map(([k, v]) => html`<dt>${ctx.t(`field_${k}`, { defaultValue: k })}</dt><dd>${fieldValue(v)}</dd>`)}</dl>
<h2>${ctx.t('history')}</h2>
<ul>${history.length ? history.map((h) => html`<li>${time(h.changedAt)}: ${ctx.t(`status_${h.status}`)} · ${h.officialName}</li>`) : html`<li>${ctx.t('noHistory')}</li>`}</ul>
${record.status !== 'resolved'
  ? html`<form method="post" action="/admin/records/${record.reference}/status" class="inline-actions">
${csrfField(ctx)}
${record.status === 'new' ? html`<button type="submit" name="status" value="acknowledged" class="primary">${ctx.t('acknowledge')}</button>` : ''}
<button type="submit" name="status" value="resolved">${ctx.t('resolve')}</button>
</form>
<p class="muted">${ctx.t('citizenTold')}</p>`
  : ''}`,
  );
}

// ---- announcements ----------------------------------------------------------------------------------------

export interface AnnouncementDraft {
  topic: 'urgent' | 'news';
  communes: string[] | null;
  textVi: string;
  textEn: string;
}

function draftFields(ctx: PageContext, d: AnnouncementDraft, scope: OfficialsScope, hidden: boolean): SafeHtml {
  if (hidden) {
    return html`<input type="hidden" name="topic" value="${d.topic}">
${(d.communes ?? []).map((c) => html`<input type="hidden" name="communes" value="${c}">`)}
${d.communes === null ? html`<input type="hidden" name="all" value="1">` : ''}
<input type="hidden" name="textVi" value="${d.textVi}"><input type="hidden" name="textEn" value="${d.textEn}">`;
  }
  return html`<fieldset><legend>${ctx.t('topic')}</legend>
<label><input type="radio" name="topic" value="urgent"${d.topic === 'urgent' ? html` checked` : ''}> ${ctx.t('topicUrgent')}</label>
<label><input type="radio" name="topic" value="news"${d.topic === 'news' ? html` checked` : ''}> ${ctx.t('topicNews')}</label>
</fieldset>
${scope.kind === 'district'
  ? html`<fieldset class="communes"><legend>${ctx.t('targetCommunes')}</legend>
<label><input type="checkbox" name="all" value="1"${d.communes === null ? html` checked` : ''}> <strong>${ctx.t('allCommunes')}</strong></label>
${ctx.communes.map((c) => html`<label><input type="checkbox" name="communes" value="${c.id}"${d.communes?.includes(c.id) ? html` checked` : ''}> ${c.name}</label>`)}
</fieldset>`
  : html`<p>${ctx.t('forCommune', { commune: communeName(ctx, scope.commune) })}</p>`}
<label class="block">${ctx.t('textVi')} <textarea name="textVi" rows="6" maxlength="3500" required>${d.textVi}</textarea></label>
<label class="block">${ctx.t('textEn')} <textarea name="textEn" rows="4" maxlength="3500">${d.textEn}</textarea></label>`;
}

export function announcementsPage(ctx: PageContext, scope: OfficialsScope, draft: AnnouncementDraft, recent: Broadcast[], problem: string | null): string {
  return layout(
    ctx,
    ctx.t('announcementsTitle'),
    html`<h1>${ctx.t('announcementsTitle')}</h1>
<p class="muted">${ctx.t('announcementsHelp')}</p>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<form method="post" action="/admin/announcements/preview" class="stack">
${csrfField(ctx)}
${draftFields(ctx, draft, scope, false)}
<button type="submit" class="primary">${ctx.t('preview')}</button>
</form>
<h2>${ctx.t('recentAnnouncements')}</h2>
<div class="scroll"><table><thead><tr><th>#</th><th>${ctx.t('topic')}</th><th>${ctx.t('targetCommunes')}</th><th>${ctx.t('status')}</th><th>${ctx.t('recipients')}</th><th>${ctx.t('created')}</th></tr></thead>
<tbody>${recent.map((b) => html`<tr><td><a href="/admin/announcements/${b.id}">${b.id}</a></td><td>${ctx.t(b.topic === 'urgent' ? 'topicUrgent' : 'topicNews')}</td><td>${b.communes ? b.communes.map((c) => communeName(ctx, c)).join(', ') : ctx.t('allCommunes')}</td><td>${ctx.t(`bstatus_${b.status}`)}</td><td>${num(b.total)}</td><td>${ctx.time(b.createdAt)}</td></tr>`)}</tbody></table></div>`,
  );
}

export function announcementPreviewPage(ctx: PageContext, scope: OfficialsScope, draft: AnnouncementDraft, counts: Record<string, number>, texts: Record<Locale, string>): string {
  const channelName = (c: string) => (c === 'telegram' ? 'Telegram' : c === 'zalo' ? 'Zalo' : c);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return layout(
    ctx,
    ctx.t('previewTitle'),
    html`<h1>${ctx.t('previewTitle')}</h1>
<p>${ctx.t('previewWhere', { where: draft.communes ? draft.communes.map((c) => communeName(ctx, c)).join(', ') : ctx.t('allCommunes') })}</p>
<table id="recipients"><thead><tr><th>${ctx.t('channel')}</th><th>${ctx.t('recipients')}</th></tr></thead>
<tbody>${Object.entries(counts).map(([c, n]) => html`<tr data-channel="${c}"><td>${channelName(c)}</td><td>${num(n)}</td></tr>`)}
<tr><th>${ctx.t('total')}</th><th>${num(total)}</th></tr></tbody></table>
${Object.keys(counts).length === 0 ? html`<p class="error">${ctx.t('noPushChannel')}</p>` : ''}
<h2>${ctx.t('previewVi')}</h2><pre class="message">${texts.vi}</pre>
${draft.textEn ? html`<h2>${ctx.t('previewEn')}</h2><pre class="message">${texts.en}</pre>` : ''}
<form method="post" action="/admin/announcements" class="inline-actions">
${csrfField(ctx)}${draftFields(ctx, draft, scope, true)}
<button type="submit" class="primary"${total === 0 ? html` disabled` : ''}>${ctx.t('sendNow', { n: num(total) })}</button>
</form>
<form method="post" action="/admin/announcements/edit" class="inline-actions">${csrfField(ctx)}${draftFields(ctx, draft, scope, true)}<button type="submit">${ctx.t('edit')}</button></form>`,
  );
}

export function announcementPage(
  ctx: PageContext,
  b: Broadcast,
  progress: { totals: Record<string, number>; byCommune: Record<string, Record<string, number>>; reasons: Array<{ reason: string; n: number }> },
  canCancel: boolean,
): string {
  const statuses = ['pending', 'sending', 'sent', 'failed', 'unreachable', 'outside_window', 'unknown', 'cancelled'];
  const done = b.total - (progress.totals.pending ?? 0) - (progress.totals.sending ?? 0);
  return layout(
    ctx,
    ctx.t('announcementTitle', { id: b.id }),
    html`<p><a href="/admin/announcements">← ${ctx.t('navAnnouncements')}</a></p>
<h1>${ctx.t('announcementTitle', { id: b.id })} <span class="tag">${ctx.t(`bstatus_${b.status}`)}</span></h1>
<p><progress max="${b.total || 1}" value="${b.total ? done : 1}"></progress> <span id="done">${num(done)}</span> / ${num(b.total)}</p>
<pre class="message">${b.textVi}</pre>
<div class="scroll"><table id="progress"><thead><tr><th>${ctx.t('colCommune')}</th>${statuses.map((s) => html`<th>${ctx.t(`dstatus_${s}`)}</th>`)}</tr></thead>
<tbody>${Object.entries(progress.byCommune).map(([c, s]) => html`<tr><th scope="row">${communeName(ctx, c)}</th>${statuses.map((st) => html`<td>${num(s[st] ?? 0)}</td>`)}</tr>`)}
<tr><th>${ctx.t('total')}</th>${statuses.map((st) => html`<th data-status="${st}">${num(progress.totals[st] ?? 0)}</th>`)}</tr></tbody></table></div>
${progress.reasons.length ? html`<p>${ctx.t('reasons')}: ${progress.reasons.map((r) => `${r.reason} (${r.n})`).join('; ')}</p>` : ''}
${canCancel && b.status === 'sending' ? html`<form method="post" action="/admin/announcements/${b.id}/cancel">${csrfField(ctx)}<button type="submit">${ctx.t('stop')}</button></form>` : ''}`,
    { refreshSeconds: b.status === 'sending' ? 5 : undefined },
  );
}

// ---- accounts and audit (district only) --------------------------------------------------------------------

export function accountsPage(
  ctx: PageContext,
  accounts: Array<{ username: string; name: string; scope: OfficialsScope; createdBy: string; createdAt: Date; disabled: boolean }>,
  problem: string | null,
  created: string | null,
): string {
  return layout(
    ctx,
    ctx.t('accountsTitle'),
    html`<h1>${ctx.t('accountsTitle')}</h1>
<p class="muted">${ctx.t('accountsHelp')}</p>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
${created ? html`<p class="notice" role="status">${ctx.t('accountCreated', { username: created })}</p>` : ''}
<form method="post" action="/admin/accounts" class="filters">
${csrfField(ctx)}
<label>${ctx.t('username')} <input name="username" required pattern="[a-z0-9._-]{3,32}" maxlength="32"></label>
<label>${ctx.t('fullName')} <input name="name" required maxlength="100"></label>
<label>${ctx.t('role')} <select name="scope"><option value="district">${ctx.t('scopeDistrict', { district: ctx.district })}</option>${ctx.communes.map((c) => html`<option value="commune:${c.id}">${c.name}</option>`)}</select></label>
<label>${ctx.t('password')} <input name="password" type="password" required minlength="10" maxlength="200" autocomplete="new-password"></label>
<button type="submit">${ctx.t('createAccount')}</button>
</form>
<table><thead><tr><th>${ctx.t('username')}</th><th>${ctx.t('fullName')}</th><th>${ctx.t('role')}</th><th>${ctx.t('createdBy')}</th><th></th></tr></thead>
<tbody>${accounts.map((a) => html`<tr><td>${a.username}</td><td>${a.name}</td><td>${scopeLabel(ctx, a.scope)}</td><td>${a.createdBy}</td>
<td>${a.disabled ? ctx.t('disabled') : html`<form method="post" action="/admin/accounts/${a.username}/disable" class="inline">${csrfField(ctx)}<button type="submit">${ctx.t('disable')}</button></form>`}</td></tr>`)}</tbody></table>`,
  );
}

export function auditPage(ctx: PageContext, entries: Array<{ at: Date; actor: string; actorName: string; action: string; subject: string }>, time: (d: Date) => string): string {
  return layout(
    ctx,
    ctx.t('auditTitle'),
    html`<h1>${ctx.t('auditTitle')}</h1>
<div class="scroll"><table id="audit"><thead><tr><th>${ctx.t('when')}</th><th>${ctx.t('who')}</th><th>${ctx.t('action')}</th><th>${ctx.t('subject')}</th></tr></thead>
<tbody>${entries.map((e) => html`<tr><td>${time(e.at)}</td><td>${e.actorName} (${e.actor})</td><td>${ctx.t(`audit_${e.action}`, { defaultValue: e.action })}</td><td>${e.subject}</td></tr>`)}</tbody></table></div>`,
  );
}
