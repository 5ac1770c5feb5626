import type { SourcedFigure } from './campaignSchema';
import type { CampaignFiguresResult, CommuneFigures } from './CampaignFigures';
import type { Ratio } from './figures';

type Cell = string | number | null;

/** The report due to the office, as a table: a few heading lines, a header row, one row per commune and agency. */
export interface ReportTable {
  heading: string[];
  header: string[];
  rows: Cell[][];
  /** More tables from figure providers (e.g. venues per kind), each under its title. */
  sections: Array<{ title: string; header: string[]; rows: Cell[][] }>;
  notes: string[];
}

/** The words of the report, in the officials' language (from `locales/<lang>/admin.json`). */
export type ReportText = (key: string, vars?: Record<string, unknown>) => string;

function sourceOf(f: SourcedFigure | null, t: ReportText): string {
  if (!f) return t('report.noSource');
  return f.date ? `${f.source} (${f.date})` : f.source;
}

function met(r: Ratio, t: ReportText): string {
  return r.met === null ? t('report.noPercent') : t(r.met ? 'report.met' : 'report.notMet');
}

/** The figures of a commune or of the district, in the columns of the header (after the name and the kind). */
function figureCells(x: Pick<CommuneFigures, 'installs' | 'officials' | 'declared' | 'field' | 'records'>, t: ReportText): Cell[] {
  return [
    x.installs.denominator?.value ?? null,
    sourceOf(x.installs.denominator, t),
    x.installs.count,
    x.installs.percent,
    met(x.installs, t),
    x.officials.denominator?.value ?? null,
    sourceOf(x.officials.denominator, t),
    x.officials.count,
    x.officials.percent,
    met(x.officials, t),
    x.declared,
    x.field.householdsVisited,
    x.field.phonesChecked,
    x.field.installsHelped,
    x.records.declaration,
    x.records.symptoms,
    x.records.entrant,
    x.records.urgent,
    x.records.open,
  ];
}

/**
 * Builds the report the district sends up (per commune and agency: targets, achieved, %, field work, declarations,
 * reports), with the date range and the source of every denominator. Numbers stay numbers (a missing percentage is
 * an empty cell, never 0).
 */
export function buildReportTable(f: CampaignFiguresResult, t: ReportText, context: { district: string; generatedAt: string }): ReportTable {
  const targets = f.targets;
  const header = [
    t('report.unit'),
    t('report.kind'),
    t('report.smartphoneUsers'),
    t('report.source'),
    t('report.installs'),
    t('report.percent'),
    t('report.target', { target: `> ${targets.smartphoneUsers.percent} %` }),
    t('report.officials'),
    t('report.source'),
    t('report.officialsInstalled'),
    t('report.percent'),
    t('report.target', { target: `${targets.officials.percent} %` }),
    t('report.declared'),
    t('report.households'),
    t('report.phones'),
    t('report.helped'),
    t('report.declarations'),
    t('report.symptoms'),
    t('report.entrants'),
    t('report.urgent'),
    t('report.open'),
    ...f.extraColumns.map((c) => c.label.vi),
  ];
  const communeRow = (c: CommuneFigures): Cell[] => [c.name, t('report.kindCommune'), ...figureCells(c, t), ...f.extraColumns.map((col) => c.extra[col.id] ?? 0)];
  const rows: Cell[][] = f.communes.map(communeRow);
  const blank = (n: number): Cell[] => Array.from({ length: n }, () => null);
  for (const a of f.agencies) {
    rows.push([a.name, t('report.kindAgency'), null, null, null, null, null, a.officials.denominator?.value ?? null, sourceOf(a.officials.denominator, t), a.officials.count, a.officials.percent, met(a.officials, t), ...blank(9 + f.extraColumns.length)]);
  }
  const d = f.district;
  if (d) {
    rows.push([
      t('report.districtTotal', { district: context.district }),
      t('report.kindDistrict'),
      ...figureCells(d, t),
      ...f.extraColumns.map((col) => f.communes.reduce((n, c) => n + (c.extra[col.id] ?? 0), 0)),
    ]);
  }
  return {
    heading: [
      f.report.title.vi,
      context.district,
      t('report.period', { from: f.range.from, to: f.range.to }),
      t('report.sendTo', { to: f.report.to.vi, due: f.report.due }),
      t('report.generatedAt', { at: context.generatedAt }),
    ],
    header,
    rows,
    sections: f.extraTables.map((x) => ({
      title: x.title.vi,
      header: ['', ...x.columns.map((c) => c.label.vi)],
      rows: x.rows.map((r) => [r.label.vi, ...x.columns.map((c) => r.values[c.id] ?? 0)]),
    })),
    notes: [t('report.noteCumulative'), t('report.noteNull'), ...(d?.population ? [t('report.population', { value: d.population.value, source: sourceOf(d.population, t) })] : [])],
  };
}

function csvCell(v: Cell): string {
  if (v === null) return '';
  const s = String(v);
  // A leading =, +, - or @ would be a formula in a spreadsheet: quote it as text.
  const safe = /^[=+\-@]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\n\r;]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV in UTF-8 with a byte-order mark, so that Excel on an office PC shows the Vietnamese letters. */
export function renderReportCsv(table: ReportTable): string {
  const sections = table.sections.flatMap((s) => ['', csvCell(s.title), s.header.map(csvCell).join(','), ...s.rows.map((r) => r.map(csvCell).join(','))]);
  const lines = [...table.heading.map((h) => csvCell(h)), '', table.header.map(csvCell).join(','), ...table.rows.map((r) => r.map(csvCell).join(',')), ...sections, '', ...table.notes.map((n) => csvCell(n))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

export async function renderReportXlsx(table: ReportTable): Promise<Buffer> {
  // Loaded on the first export only: exceljs is large, and most processes never export.
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  book.created = new Date(0);
  const sheet = book.addWorksheet('Báo cáo');
  for (const h of table.heading) sheet.addRow([h]);
  sheet.getRow(1).font = { bold: true, size: 14 };
  sheet.addRow([]);
  const headerRow = sheet.addRow(table.header);
  headerRow.font = { bold: true };
  headerRow.alignment = { wrapText: true, vertical: 'top' };
  for (const r of table.rows) sheet.addRow(r);
  for (const s of table.sections) {
    sheet.addRow([]);
    sheet.addRow([s.title]).font = { bold: true };
    const head = sheet.addRow(s.header);
    head.font = { bold: true };
    head.alignment = { wrapText: true, vertical: 'top' };
    for (const r of s.rows) sheet.addRow(r);
  }
  sheet.addRow([]);
  for (const n of table.notes) sheet.addRow([n]);
  sheet.columns.forEach((col, i) => {
    col.width = i === 0 ? 32 : [3, 8].includes(i) ? 28 : 14;
  });
  sheet.views = [{ state: 'frozen', xSplit: 1, ySplit: table.heading.length + 2 }];
  return Buffer.from(await book.xlsx.writeBuffer());
}
