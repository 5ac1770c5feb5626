import { html, type SafeHtml } from './html';

/**
 * Charts as server-rendered SVG: no script, no library, readable on an old office PC, and allowed by a strict
 * Content-Security-Policy (presentation attributes only, no inline style).
 */

export interface Bar {
  label: string;
  /** Percentage, or null when the denominator is unknown (then the count is written instead of a bar). */
  percent: number | null;
  count: number;
}

const W = 700;
const LABEL_W = 230;
const ROW_H = 22;

/** Horizontal bars of a percentage per unit, with the target drawn as a line; units behind it in red. */
export function renderBarChart(title: string, bars: Bar[], target: { percent: number; comparison: 'above' | 'atLeast' }, noPercentText: string): SafeHtml {
  const plotW = W - LABEL_W - 60;
  const max = Math.max(100, ...bars.map((b) => b.percent ?? 0));
  const x = (p: number) => LABEL_W + (p / max) * plotW;
  const h = 30 + bars.length * ROW_H + 20;
  const met = (p: number) => (target.comparison === 'above' ? p > target.percent : p >= target.percent);
  return html`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${h}" width="100%" role="img" aria-label="${title}">
<title>${title}</title>
<text x="0" y="16" font-size="14" font-weight="bold" fill="#222">${title}</text>
${bars.map((b, i) => {
  const y = 30 + i * ROW_H;
  return html`<g class="bar" data-label="${b.label}" data-percent="${b.percent ?? ''}" data-count="${b.count}">
<text x="${LABEL_W - 6}" y="${y + 14}" font-size="12" text-anchor="end" fill="#222">${b.label}</text>
${b.percent === null
  ? html`<text x="${LABEL_W + 4}" y="${y + 14}" font-size="12" fill="#666">${b.count} · ${noPercentText}</text>`
  : html`<rect x="${LABEL_W}" y="${y + 3}" width="${Math.max(1, x(b.percent) - LABEL_W).toFixed(1)}" height="${ROW_H - 6}" fill="${met(b.percent) ? '#2e7d32' : '#c62828'}"/>
<text x="${(x(b.percent) + 4).toFixed(1)}" y="${y + 14}" font-size="12" fill="#222">${b.percent.toLocaleString('vi-VN')} % (${b.count})</text>`}
</g>`;
})}
<line x1="${x(target.percent).toFixed(1)}" x2="${x(target.percent).toFixed(1)}" y1="24" y2="${h - 16}" stroke="#1565c0" stroke-width="2" stroke-dasharray="4 3"/>
<text x="${x(target.percent).toFixed(1)}" y="${h - 4}" font-size="11" text-anchor="middle" fill="#1565c0">${target.comparison === 'above' ? '>' : '≥'} ${target.percent} %</text>
</svg>`;
}

/** A line of a cumulative count per day. */
export function renderLineChart(title: string, points: Array<{ day: string; value: number }>): SafeHtml {
  const H = 220;
  const left = 50;
  const plotW = W - left - 20;
  const plotH = H - 60;
  const max = Math.max(1, ...points.map((p) => p.value));
  const x = (i: number) => left + (points.length <= 1 ? plotW / 2 : (i / (points.length - 1)) * plotW);
  const y = (v: number) => 30 + plotH - (v / max) * plotH;
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const ticks = points.length ? [0, Math.floor((points.length - 1) / 2), points.length - 1] : [];
  return html`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${title}">
<title>${title}</title>
<text x="0" y="16" font-size="14" font-weight="bold" fill="#222">${title}</text>
<line x1="${left}" x2="${left}" y1="30" y2="${30 + plotH}" stroke="#999"/>
<line x1="${left}" x2="${left + plotW}" y1="${30 + plotH}" y2="${30 + plotH}" stroke="#999"/>
<text x="${left - 6}" y="34" font-size="11" text-anchor="end" fill="#444">${max}</text>
<text x="${left - 6}" y="${30 + plotH}" font-size="11" text-anchor="end" fill="#444">0</text>
<path d="${path}" fill="none" stroke="#1565c0" stroke-width="2"/>
${points.map((p, i) => html`<circle class="point" data-day="${p.day}" data-value="${p.value}" cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.5" fill="#1565c0"><title>${p.day}: ${p.value}</title></circle>`)}
${ticks.map((i) => html`<text x="${x(i).toFixed(1)}" y="${H - 12}" font-size="11" text-anchor="middle" fill="#444">${points[i]!.day.slice(5).split('-').reverse().join('/')}</text>`)}
</svg>`;
}
