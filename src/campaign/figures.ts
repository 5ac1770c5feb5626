import type { SourcedFigure, Target } from './campaignSchema';

/** A count against a sourced denominator: the percentage is null when the denominator is unknown or zero. */
export interface Ratio {
  count: number;
  denominator: SourcedFigure | null;
  percent: number | null;
  /** Whether the target is met; null when there is no percentage to compare. */
  met: boolean | null;
}

/** Percentage with one decimal, or null when there is no usable denominator (never an invented one). */
export function percentOf(count: number, denominator: SourcedFigure | null): number | null {
  if (!denominator || denominator.value === null || denominator.value <= 0) return null;
  return Math.round((count / denominator.value) * 1000) / 10;
}

export function meetsTarget(percent: number | null, target: Target): boolean | null {
  if (percent === null) return null;
  return target.comparison === 'above' ? percent > target.percent : percent >= target.percent;
}

export function ratio(count: number, denominator: SourcedFigure | null, target: Target): Ratio {
  const percent = percentOf(count, denominator);
  return { count, denominator, percent, met: meetsTarget(percent, target) };
}

/**
 * The sum of several sourced figures, when every one of them is known (a district total from its communes);
 * null when any is missing, because a partial sum would understate the denominator.
 */
export function sumFigures(figures: Array<SourcedFigure | null | undefined>, source: string): SourcedFigure | null {
  if (figures.length === 0 || figures.some((f) => !f || f.value === null)) return null;
  const dates = figures.map((f) => f!.date).filter((d): d is string => d !== null).sort();
  return { value: figures.reduce((n, f) => n + f!.value!, 0), source, date: dates.at(-1) ?? null };
}

/** An inclusive range of local calendar dates (YYYY-MM-DD). */
export interface DateRange {
  from: string;
  to: string;
}

export const MAX_RANGE_DAYS = 366;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isRealDate(d: string): boolean {
  if (!ISO_DATE.test(d)) return false;
  const t = new Date(`${d}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/**
 * Reads a date range typed in a form or a URL. Missing ends default to the last 30 days up to `today`. Bad input is
 * a value naming the field, never an exception.
 */
export function parseDateRange(input: { from?: unknown; to?: unknown }, today: string): { ok: true; range: DateRange } | { ok: false; field: 'from' | 'to'; problem: 'format' | 'order' | 'length' } {
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  const to = text(input.to) ?? today;
  if (!isRealDate(to)) return { ok: false, field: 'to', problem: 'format' };
  const from = text(input.from) ?? addDays(to, -29);
  if (!isRealDate(from)) return { ok: false, field: 'from', problem: 'format' };
  if (from > to) return { ok: false, field: 'from', problem: 'order' };
  if (daysBetween(from, to) >= MAX_RANGE_DAYS) return { ok: false, field: 'from', problem: 'length' };
  return { ok: true, range: { from, to } };
}

/** Minutes a time zone is ahead of UTC at an instant (Asia/Ho_Chi_Minh: 420). */
export function zoneOffsetMinutes(timeZone: string, at: Date): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((local - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** The instants a local date range covers: [start, end) in UTC. */
export function rangeInstants(range: DateRange, timeZone: string): { start: Date; end: Date } {
  const at = (date: string) => {
    const naive = Date.parse(`${date}T00:00:00Z`);
    return new Date(naive - zoneOffsetMinutes(timeZone, new Date(naive)) * 60_000);
  };
  return { start: at(range.from), end: at(addDays(range.to, 1)) };
}

/** Every local date of a range, in order. */
export function daysOf(range: DateRange): string[] {
  const n = daysBetween(range.from, range.to);
  return Array.from({ length: n + 1 }, (_, i) => addDays(range.from, i));
}
