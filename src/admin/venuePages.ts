import type { Checkin, Venue, VenueFigures, VenueKind, VenueStatus } from '../venues/VenueRepository';
import { html, type SafeHtml } from './html';
import { communeName, csrfField, layout, type PageContext } from './pages';

/** The venues' own words (kinds, statuses) in the page's language, from `locales/<lang>/venues.json`. */
export type VenueWords = (key: string) => string;

/** A time window as typed in the form: local date and time, `YYYY-MM-DDTHH:MM`. */
export interface LocalWindow {
  from: string;
  to: string;
}

export interface VenueListView {
  venues: Venue[];
  filter: { commune?: string; status?: VenueStatus; kind?: VenueKind };
  /** Communes the official may see (one for a commune officer). */
  communes: Array<{ id: string; name: string }>;
  figures: VenueFigures[];
  kinds: readonly VenueKind[];
  formKey: string;
  problem: string | null;
  message: string | null;
  /** What the add form held when it was refused. */
  draft: Record<string, string>;
}

const num = (n: number) => n.toLocaleString('vi-VN');

function statusCell(ctx: PageContext, w: VenueWords, v: Venue): SafeHtml {
  return html`<td class="status">${w(`status_${v.status}`)}${v.nationalQrAt ? html` <span class="tag" title="${ctx.t('venues.nationalQr')}">${ctx.t('venues.nationalQrShort')}</span>` : ''}${v.checkedOnSiteAt ? html` <span class="tag" title="${ctx.t('venues.checkedOnSite')}">${ctx.t('venues.checkedOnSiteShort')}</span>` : ''}</td>`;
}

function decideButtons(ctx: PageContext, v: Venue): SafeHtml | '' {
  if (v.status !== 'pending') return '';
  return html`<form method="post" action="/admin/venues/${v.id}/decide" class="inline">${csrfField(ctx)}<button type="submit" name="status" value="confirmed" class="primary">${ctx.t('venues.confirm')}</button> <button type="submit" name="status" value="rejected">${ctx.t('venues.reject')}</button></form>`;
}

function option(value: string, label: string, current: string | undefined): SafeHtml {
  return html`<option value="${value}"${current === value ? html` selected` : ''}>${label}</option>`;
}

/** The venues of the official's communes with their status, the figures per kind, and the form to add a venue found in the field. */
export function venuesPage(ctx: PageContext, w: VenueWords, view: VenueListView): string {
  const f = view.filter;
  const byKind = view.kinds.map((kind) => {
    const rows = view.figures.filter((r) => r.kind === kind);
    const sum = (k: 'listed' | 'pending' | 'confirmed' | 'nationalQr' | 'checkedOnSite') => rows.reduce((n, r) => n + r[k], 0);
    return { kind, listed: sum('listed'), pending: sum('pending'), confirmed: sum('confirmed'), nationalQr: sum('nationalQr'), checkedOnSite: sum('checkedOnSite') };
  });
  const d = view.draft;
  return layout(
    ctx,
    ctx.t('venues.title'),
    html`<h1>${ctx.t('venues.title')}</h1>
<p class="muted">${ctx.t('venues.help')}</p>
${view.problem ? html`<p class="error" role="alert">${view.problem}</p>` : ''}
${view.message ? html`<p class="notice" role="status">${view.message}</p>` : ''}
<form method="get" action="/admin/venues" class="filters">
${view.communes.length > 1 ? html`<label>${ctx.t('colCommune')} <select name="commune"><option value="">${ctx.t('any')}</option>${view.communes.map((c) => option(c.id, c.name, f.commune))}</select></label>` : ''}
<label>${ctx.t('status')} <select name="status"><option value="">${ctx.t('any')}</option>${(['pending', 'confirmed', 'rejected'] as const).map((s) => option(s, w(`status_${s}`), f.status))}</select></label>
<label>${ctx.t('kind')} <select name="kind"><option value="">${ctx.t('any')}</option>${view.kinds.map((k) => option(k, w(`kind_${k}`), f.kind))}</select></label>
<button type="submit">${ctx.t('show')}</button>
</form>
<p class="muted">${ctx.t('venues.count', { n: view.venues.length })}</p>
<div class="scroll"><table class="sortable" id="venues">
<thead><tr><th data-type="text">${ctx.t('reference')}</th><th data-type="text">${ctx.t('venues.name')}</th><th data-type="text">${ctx.t('kind')}</th><th data-type="text">${ctx.t('colCommune')}</th><th data-type="text">${ctx.t('venues.address')}</th><th data-type="text">${ctx.t('status')}</th><th></th></tr></thead>
<tbody>${view.venues.map(
      (v) => html`<tr data-reference="${v.reference}" class="${v.status === 'pending' ? 'behind' : ''}">
<th scope="row"><a href="/admin/venues/${v.id}">${v.reference}</a></th>
<td>${v.name}</td><td>${w(`kind_${v.kind}`)}${v.plate ? ` ${v.plate}` : ''}</td><td>${communeName(ctx, v.commune)}</td><td>${v.address}</td>
${statusCell(ctx, w, v)}
<td>${decideButtons(ctx, v)}</td>
</tr>`,
    )}</tbody>
</table></div>
<h2>${ctx.t('venues.byKind')}</h2>
<div class="scroll"><table id="venue-kinds"><thead><tr><th>${ctx.t('kind')}</th><th>${ctx.t('venues.listed')}</th><th>${ctx.t('venues.registered')}</th><th>${w('status_pending')}</th><th>${w('status_confirmed')}</th><th>${ctx.t('venues.checkedOnSite')}</th></tr></thead>
<tbody>${byKind.map((k) => html`<tr data-kind="${k.kind}"><th scope="row">${w(`kind_${k.kind}`)}</th><td data-value="${k.listed}">${num(k.listed)}</td><td data-value="${k.nationalQr}">${num(k.nationalQr)}</td><td data-value="${k.pending}">${num(k.pending)}</td><td data-value="${k.confirmed}">${num(k.confirmed)}</td><td data-value="${k.checkedOnSite}">${num(k.checkedOnSite)}</td></tr>`)}</tbody></table></div>
<h2 id="add">${ctx.t('venues.addTitle')}</h2>
<p class="muted">${ctx.t('venues.addHelp')}</p>
<form method="post" action="/admin/venues" class="filters">
${csrfField(ctx)}<input type="hidden" name="key" value="${view.formKey}">
<label>${ctx.t('venues.name')} <input name="name" required maxlength="120" value="${d.name ?? ''}"></label>
<label>${ctx.t('kind')} <select name="kind">${view.kinds.map((k) => option(k, w(`kind_${k}`), d.kind))}</select></label>
<label>${ctx.t('venues.plate')} <input name="plate" maxlength="20" value="${d.plate ?? ''}"></label>
<label>${ctx.t('colCommune')} <select name="commune">${view.communes.map((c) => option(c.id, c.name, d.commune))}</select></label>
<label>${ctx.t('venues.address')} <input name="address" required maxlength="200" value="${d.address ?? ''}"></label>
<label>${ctx.t('venues.owner')} <input name="ownerName" maxlength="80" value="${d.ownerName ?? ''}"></label>
<label>${ctx.t('venues.phone')} <input name="ownerPhone" maxlength="20" value="${d.ownerPhone ?? ''}"></label>
<button type="submit" class="primary">${ctx.t('venues.add')}</button>
</form>`,
  );
}

function windowForm(ctx: PageContext, v: Venue, window: LocalWindow): SafeHtml {
  return html`<form method="get" action="/admin/venues/${v.id}/visitors" class="filters">
<label>${ctx.t('venues.windowFrom')} <input type="datetime-local" name="from" value="${window.from}" required></label>
<label>${ctx.t('venues.windowTo')} <input type="datetime-local" name="to" value="${window.to}" required></label>
<button type="submit" class="primary">${ctx.t('venues.trace')}</button>
</form>`;
}

/** One venue: its facts, the on-site check, confirm or reject, and the tracing form. */
export function venuePage(ctx: PageContext, w: VenueWords, v: Venue, links: { checkin: string; pdf: string }, window: LocalWindow, message: string | null, problem: string | null): string {
  return layout(
    ctx,
    v.name,
    html`<p><a href="/admin/venues">← ${ctx.t('venues.title')}</a></p>
<h1>${v.name} <small>${v.reference}</small></h1>
${message ? html`<p class="notice" role="status">${message}</p>` : ''}
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<dl class="facts">
<dt>${ctx.t('kind')}</dt><dd>${w(`kind_${v.kind}`)}${v.plate ? ` ${v.plate}` : ''}</dd>
<dt>${ctx.t('colCommune')}</dt><dd>${communeName(ctx, v.commune)}</dd>
<dt>${ctx.t('venues.address')}</dt><dd>${v.address}</dd>
<dt>${ctx.t('venues.owner')}</dt><dd>${v.ownerName ?? '—'} · ${v.ownerPhone ?? '—'}</dd>
<dt>${ctx.t('status')}</dt><dd id="status">${w(`status_${v.status}`)}${v.decidedBy ? ` · ${v.decidedBy}` : ''}${v.decidedAt ? ` · ${ctx.time(v.decidedAt)}` : ''}</dd>
<dt>${ctx.t('venues.nationalQr')}</dt><dd>${v.nationalQrAt ? ctx.time(v.nationalQrAt) : ctx.t('venues.notYet')}</dd>
<dt>${ctx.t('venues.checkedOnSite')}</dt><dd id="on-site">${v.checkedOnSiteAt ? ctx.time(v.checkedOnSiteAt) : ctx.t('venues.notYet')}</dd>
<dt>${ctx.t('venues.code')}</dt><dd>${v.code} · <a href="${links.pdf}">${ctx.t('venues.poster')}</a> · <a href="${links.checkin}">${ctx.t('venues.checkinPage')}</a></dd>
</dl>
<div class="inline-actions">${decideButtons(ctx, v)}
${v.status !== 'rejected' && !v.checkedOnSiteAt ? html`<form method="post" action="/admin/venues/${v.id}/checked" class="inline">${csrfField(ctx)}<button type="submit">${ctx.t('venues.markChecked')}</button></form>` : ''}</div>
<h2 id="trace">${ctx.t('venues.traceTitle')}</h2>
<p class="muted">${ctx.t('venues.traceHelp')}</p>
${windowForm(ctx, v, window)}`,
  );
}

/** The visitors of a venue in a window: names, phones, times; the CSV export and the notice to send them. */
export function visitorsPage(ctx: PageContext, v: Venue, window: LocalWindow, visitors: Checkin[]): string {
  const q = `from=${encodeURIComponent(window.from)}&to=${encodeURIComponent(window.to)}`;
  return layout(
    ctx,
    ctx.t('venues.visitorsTitle', { name: v.name }),
    html`<p><a href="/admin/venues/${v.id}">← ${v.name}</a></p>
<h1>${ctx.t('venues.visitorsTitle', { name: v.name })}</h1>
${windowForm(ctx, v, window)}
<p class="muted">${ctx.t('auditNotice')}</p>
<p>${ctx.t('venues.visitorsCount', { n: visitors.length })} <a class="button" href="/admin/venues/${v.id}/visitors.csv?${q}" download>${ctx.t('downloadCsv')}</a></p>
<div class="scroll"><table class="sortable" id="visitors">
<thead><tr><th data-type="text">${ctx.t('fullName')}</th><th data-type="text">${ctx.t('venues.phone')}</th><th>${ctx.t('venues.checkedIn')}</th><th>${ctx.t('venues.checkedOut')}</th><th data-type="text">${ctx.t('venues.how')}</th></tr></thead>
<tbody>${visitors.map(
      (c) => html`<tr><td>${c.name}</td><td>${c.phone}</td><td data-value="${c.checkedInAt.getTime()}">${ctx.time(c.checkedInAt)}</td><td data-value="${c.checkedOutAt?.getTime() ?? -1}">${c.checkedOutAt ? ctx.time(c.checkedOutAt) : '—'}</td><td>${c.assistedBy ? ctx.t('venues.assisted') : c.channel ? ctx.t(`venues.channel_${c.channel}`, { defaultValue: c.channel }) : '—'}</td></tr>`,
    )}</tbody>
</table></div>
${visitors.length
  ? html`<h2 id="notify">${ctx.t('venues.notifyTitle')}</h2>
<p class="muted">${ctx.t('venues.notifyHelp')}</p>
<form method="post" action="/admin/venues/${v.id}/notify" class="stack">
${csrfField(ctx)}<input type="hidden" name="from" value="${window.from}"><input type="hidden" name="to" value="${window.to}">
<label class="block">${ctx.t('venues.notifyMessage')} <textarea name="message" rows="3" maxlength="500"></textarea></label>
<button type="submit" class="primary">${ctx.t('venues.notifyButton', { n: visitors.length })}</button>
</form>`
  : ''}`,
  );
}

/** What "notify these visitors" did: how many were sent a message, and whom to call by phone. */
export function notifiedPage(ctx: PageContext, v: Venue, result: { notified: number; byPhone: Array<{ name: string; phone: string }> }): string {
  return layout(
    ctx,
    ctx.t('venues.notifyTitle'),
    html`<p><a href="/admin/venues/${v.id}">← ${v.name}</a></p>
<h1>${ctx.t('venues.notifyTitle')}</h1>
<p class="notice" role="status">${ctx.t('venues.notified', { n: result.notified })}</p>
${result.byPhone.length
  ? html`<h2>${ctx.t('venues.callByPhone')}</h2>
<table id="by-phone"><thead><tr><th>${ctx.t('fullName')}</th><th>${ctx.t('venues.phone')}</th></tr></thead>
<tbody>${result.byPhone.map((p) => html`<tr><td>${p.name}</td><td>${p.phone}</td></tr>`)}</tbody></table>`
  : ''}`,
  );
}
