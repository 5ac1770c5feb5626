import type { Locality } from '../locality/localitySchema';
import type { Database } from '../db/Database';
import { communesOf, type OfficialsScope } from '../records/officialsScope';
import type { CampaignSettings, SourcedFigure } from './campaignSchema';
import { addDays, daysOf, rangeInstants, ratio, sumFigures, zoneOffsetMinutes, type DateRange, type Ratio } from './figures';

/**
 * More figures per commune from another part (e.g. venues with a QR checkpoint): its columns are added to the
 * campaign table and the report. Registered once at start-up.
 */
export interface FigureProvider {
  id: string;
  columns: Array<{ id: string; label: { vi: string; en: string } }>;
  /** Column values per commune id, for the instants [start, end). */
  perCommune(range: { start: Date; end: Date }, communes: string[]): Promise<Record<string, Record<string, number>>>;
  /** More small tables over the same communes (e.g. venues per kind), shown under the commune table and in the report. */
  tables?(range: { start: Date; end: Date }, communes: string[]): Promise<FigureTable[]>;
}

/** A small table of figures from a provider: rows (e.g. kinds of venue) by columns, each label in both languages. */
export interface FigureTable {
  id: string;
  title: { vi: string; en: string };
  columns: Array<{ id: string; label: { vi: string; en: string } }>;
  rows: Array<{ id: string; label: { vi: string; en: string }; values: Record<string, number> }>;
}

export interface FieldWork {
  householdsVisited: number;
  phonesChecked: number;
  installsHelped: number;
  entries: number;
}

export interface RecordCounts {
  declaration: number;
  symptoms: number;
  entrant: number;
  urgent: number;
  /** Not acknowledged yet. */
  open: number;
  /** Mean minutes from a record to its first acknowledgement, for those acknowledged; null when none. */
  meanAckMinutes: number | null;
}

export interface CommuneFigures {
  id: string;
  name: string;
  population: SourcedFigure | null;
  /** Installs up to the end of the range against smartphone users (target > 50 %). */
  installs: Ratio;
  /** Installs confirmed within the range. */
  installsInRange: number;
  /** Officials of the commune office who installed, against the office's officials (target 100 %). */
  officials: Ratio;
  declared: number;
  field: FieldWork;
  records: RecordCounts;
  /** A target with a known percentage is not met. */
  behind: boolean;
  extra: Record<string, number>;
}

export interface AgencyFigures {
  id: string;
  name: string;
  officials: Ratio;
}

export interface CampaignFiguresResult {
  range: DateRange;
  scope: OfficialsScope;
  targets: CampaignSettings['targets'];
  report: CampaignSettings['report'];
  /** The whole district (only in the district scope). */
  district: { installs: Ratio; officials: Ratio; declared: number; field: FieldWork; records: RecordCounts; population: SourcedFigure | null } | null;
  communes: CommuneFigures[];
  /** Only in the district scope. */
  agencies: AgencyFigures[];
  /** Cumulative installs at the end of each day of the range, in the scope. */
  trend: Array<{ day: string; installs: number }>;
  extraColumns: FigureProvider['columns'];
  extraTables: FigureTable[];
}

export interface NewFieldReport {
  commune: string;
  day: string;
  householdsVisited: number;
  phonesChecked: number;
  installsHelped: number;
  enteredBy: string;
  idempotencyKey: string;
  now: Date;
}

/** A field report as stored: what was typed, with its number and when it was entered. */
export type FieldEntry = Omit<NewFieldReport, 'idempotencyKey' | 'now'> & { id: number; enteredAt: Date };

const EMPTY_FIELD: FieldWork = { householdsVisited: 0, phonesChecked: 0, installsHelped: 0, entries: 0 };
const EMPTY_RECORDS: RecordCounts = { declaration: 0, symptoms: 0, entrant: 0, urgent: 0, open: 0, meanAckMinutes: null };

/**
 * The campaign figures, computed from the records database with the denominators of the locality file: what the
 * dashboard, `/thongke` and the report show. Installs and officials are counted up to the end of the range (the
 * targets are cumulative); field work, declarations and reports within it.
 */
export class CampaignFigures {
  private readonly settings: CampaignSettings;
  private readonly timeZone: string;

  constructor(
    private readonly db: Database,
    private readonly locality: Locality,
    private readonly providers: FigureProvider[] = [],
  ) {
    this.settings = locality.campaign;
    this.timeZone = locality.records.timezone;
  }

  async figures(range: DateRange, scope: OfficialsScope): Promise<CampaignFiguresResult> {
    const { start, end } = rangeInstants(range, this.timeZone);
    const ids = communesOf(scope, this.locality);
    const [installs, officials, declared, field, records, trend, extras, tables] = await Promise.all([
      this.installsPerCommune(start, end),
      this.officialsPerUnit(end),
      this.declaredPerCommune(end),
      this.fieldPerCommune(range),
      this.recordsPerCommune(start, end),
      this.trend(range, scope),
      Promise.all(this.providers.map((p) => p.perCommune({ start, end }, ids))),
      Promise.all(this.providers.map((p) => p.tables?.({ start, end }, ids) ?? [])),
    ]);
    const t = this.settings.targets;
    const communes = this.locality.communes
      .filter((c) => ids.includes(c.id))
      .map((c): CommuneFigures => {
        const d = this.settings.communes[c.id];
        const inst = ratio(installs.total[c.id] ?? 0, d?.smartphoneUsers ?? null, t.smartphoneUsers);
        const off = ratio(officials[`commune:${c.id}`] ?? 0, d?.officials ?? null, t.officials);
        const extra: Record<string, number> = {};
        for (const e of extras) Object.assign(extra, e[c.id] ?? {});
        return {
          id: c.id,
          name: c.name,
          population: d?.population ?? null,
          installs: inst,
          installsInRange: installs.inRange[c.id] ?? 0,
          officials: off,
          declared: declared[c.id] ?? 0,
          field: field[c.id] ?? EMPTY_FIELD,
          records: records[c.id] ?? EMPTY_RECORDS,
          behind: inst.met === false || off.met === false,
          extra,
        };
      });
    const agencies =
      scope.kind === 'district'
        ? this.settings.agencies.map((a) => ({ id: a.id, name: a.name, officials: ratio(officials[`agency:${a.id}`] ?? 0, a.officials, t.officials) }))
        : [];
    return {
      range,
      scope,
      targets: t,
      report: this.settings.report,
      district: scope.kind === 'district' ? this.districtTotals(communes, agencies) : null,
      communes,
      agencies,
      trend,
      extraColumns: this.providers.flatMap((p) => p.columns),
      extraTables: tables.flat(),
    };
  }

  private districtTotals(communes: CommuneFigures[], agencies: AgencyFigures[]): NonNullable<CampaignFiguresResult['district']> {
    const s = this.settings;
    const sum = (f: (c: CommuneFigures) => number) => communes.reduce((n, c) => n + f(c), 0);
    const users = s.district.smartphoneUsers.value !== null ? s.district.smartphoneUsers : sumFigures(communes.map((c) => s.communes[c.id]?.smartphoneUsers), 'tổng các xã');
    const officialsDenominator =
      s.district.officials.value !== null
        ? s.district.officials
        : sumFigures([...communes.map((c) => s.communes[c.id]?.officials), ...agencies.map((a) => a.officials.denominator)], 'tổng các xã và cơ quan');
    const acked = communes.filter((c) => c.records.meanAckMinutes !== null);
    const ackWeight = acked.reduce((n, c) => n + (c.records.declaration + c.records.symptoms + c.records.entrant - c.records.open), 0);
    return {
      population: s.district.population.value !== null ? s.district.population : sumFigures(communes.map((c) => s.communes[c.id]?.population), 'tổng các xã'),
      installs: ratio(sum((c) => c.installs.count), users, s.targets.smartphoneUsers),
      officials: ratio(sum((c) => c.officials.count) + agencies.reduce((n, a) => n + a.officials.count, 0), officialsDenominator, s.targets.officials),
      declared: sum((c) => c.declared),
      field: {
        householdsVisited: sum((c) => c.field.householdsVisited),
        phonesChecked: sum((c) => c.field.phonesChecked),
        installsHelped: sum((c) => c.field.installsHelped),
        entries: sum((c) => c.field.entries),
      },
      records: {
        declaration: sum((c) => c.records.declaration),
        symptoms: sum((c) => c.records.symptoms),
        entrant: sum((c) => c.records.entrant),
        urgent: sum((c) => c.records.urgent),
        open: sum((c) => c.records.open),
        meanAckMinutes: ackWeight
          ? Math.round(acked.reduce((n, c) => n + c.records.meanAckMinutes! * (c.records.declaration + c.records.symptoms + c.records.entrant - c.records.open), 0) / ackWeight)
          : null,
      },
    };
  }

  private async installsPerCommune(start: Date, end: Date): Promise<{ total: Record<string, number>; inRange: Record<string, number> }> {
    const rows = await this.db.query<{ commune: string; total: number; in_range: number }>(
      `SELECT commune, sum(total)::int AS total, sum(in_range)::int AS in_range FROM (
         SELECT commune, count(*)::int AS total, count(*) FILTER (WHERE confirmed_at >= $1)::int AS in_range
           FROM app_installs WHERE confirmed_at < $2 GROUP BY commune
         UNION ALL SELECT commune, n, 0 FROM app_installs_anonymous) t
       GROUP BY commune`,
      [start.toISOString(), end.toISOString()],
    );
    return {
      total: Object.fromEntries(rows.map((r) => [r.commune, Number(r.total)])),
      inRange: Object.fromEntries(rows.map((r) => [r.commune, Number(r.in_range)])),
    };
  }

  /** Officials who installed, per unit (`commune:<id>`, `agency:<id>`), up to `end`. */
  private async officialsPerUnit(end: Date): Promise<Record<string, number>> {
    const rows = await this.db.query<{ unit: string; n: number }>(
      `SELECT unit, sum(n)::int AS n FROM (
         SELECT p.official_unit AS unit, count(*)::int AS n FROM campaign_people p
           JOIN app_installs i ON i.channel = p.channel AND i.user_id = p.user_id
          WHERE p.official_unit LIKE '%:%' AND i.confirmed_at < $1
          GROUP BY p.official_unit
         UNION ALL SELECT unit, n FROM campaign_people_anonymous WHERE mark = 'official_installed') t
       GROUP BY unit`,
      [end.toISOString()],
    );
    return Object.fromEntries(rows.map((r) => [r.unit, Number(r.n)]));
  }

  private async declaredPerCommune(end: Date): Promise<Record<string, number>> {
    const rows = await this.db.query<{ commune: string; n: number }>(
      `SELECT commune, sum(n)::int AS n FROM (
         SELECT commune, count(*)::int AS n FROM campaign_people WHERE declared AND declared_at < $1 GROUP BY commune
         UNION ALL SELECT substr(unit, 9) AS commune, n FROM campaign_people_anonymous WHERE mark = 'declared') t
       GROUP BY commune`,
      [end.toISOString()],
    );
    return Object.fromEntries(rows.map((r) => [r.commune, Number(r.n)]));
  }

  private async fieldPerCommune(range: DateRange): Promise<Record<string, FieldWork>> {
    const rows = await this.db.query<{ commune: string; h: number; p: number; i: number; n: number }>(
      `SELECT commune, sum(households_visited)::int AS h, sum(phones_checked)::int AS p, sum(installs_helped)::int AS i, count(*)::int AS n
         FROM field_reports WHERE day >= $1 AND day <= $2 GROUP BY commune`,
      [range.from, range.to],
    );
    return Object.fromEntries(rows.map((r) => [r.commune, { householdsVisited: Number(r.h), phonesChecked: Number(r.p), installsHelped: Number(r.i), entries: Number(r.n) }]));
  }

  private async recordsPerCommune(start: Date, end: Date): Promise<Record<string, RecordCounts>> {
    const rows = await this.db.query<{ commune: string; declaration: number; symptoms: number; entrant: number; urgent: number; open: number; ack: number | null }>(
      `SELECT r.commune,
              count(*) FILTER (WHERE r.kind = 'declaration')::int AS declaration,
              count(*) FILTER (WHERE r.kind = 'symptoms')::int AS symptoms,
              count(*) FILTER (WHERE r.kind = 'entrant')::int AS entrant,
              count(*) FILTER (WHERE r.urgency = 'urgent')::int AS urgent,
              count(*) FILTER (WHERE r.status = 'new')::int AS open,
              avg(extract(epoch FROM (f.first_at - r.created_at)) / 60)::float8 AS ack
         FROM records r
         LEFT JOIN (SELECT record_id, min(changed_at) AS first_at FROM record_status_changes GROUP BY record_id) f ON f.record_id = r.id
        WHERE r.created_at >= $1 AND r.created_at < $2
        GROUP BY r.commune`,
      [start.toISOString(), end.toISOString()],
    );
    return Object.fromEntries(
      rows.map((r) => [
        r.commune,
        {
          declaration: Number(r.declaration),
          symptoms: Number(r.symptoms),
          entrant: Number(r.entrant),
          urgent: Number(r.urgent),
          open: Number(r.open),
          meanAckMinutes: r.ack === null ? null : Math.round(Number(r.ack)),
        },
      ]),
    );
  }

  /** Cumulative installs at the end of each local day of the range (people who were forgotten have no date: left out). */
  private async trend(range: DateRange, scope: OfficialsScope): Promise<Array<{ day: string; installs: number }>> {
    const { start, end } = rangeInstants(range, this.timeZone);
    // One offset for the range: the district's zone has no daylight saving (a zone with it is off by an hour at most).
    const offset = zoneOffsetMinutes(this.timeZone, end);
    const commune = scope.kind === 'commune' ? scope.commune : null;
    const [before] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM app_installs WHERE confirmed_at < $1 AND ($2::text IS NULL OR commune = $2)`, [start.toISOString(), commune]);
    const rows = await this.db.query<{ day: string; n: number }>(
      `SELECT to_char(confirmed_at + make_interval(mins => $3), 'YYYY-MM-DD') AS day, count(*)::int AS n
         FROM app_installs WHERE confirmed_at >= $1 AND confirmed_at < $2 AND ($4::text IS NULL OR commune = $4)
        GROUP BY 1`,
      [start.toISOString(), end.toISOString(), offset, commune],
    );
    const perDay = new Map(rows.map((r) => [r.day, Number(r.n)]));
    let total = Number(before?.n ?? 0);
    return daysOf(range).map((day) => ({ day, installs: (total += perDay.get(day) ?? 0) }));
  }

  // ---- field work -------------------------------------------------------------------------------------------

  /** Stores what a commune officer typed; a form posted twice (same key) stores one row. */
  async addFieldReport(r: NewFieldReport): Promise<{ created: boolean }> {
    const rows = await this.db.query(
      `INSERT INTO field_reports (commune, day, households_visited, phones_checked, installs_helped, entered_by, entered_at, idempotency_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      [r.commune, r.day, r.householdsVisited, r.phonesChecked, r.installsHelped, r.enteredBy, r.now.toISOString(), r.idempotencyKey],
    );
    return { created: rows.length > 0 };
  }

  async fieldReports(range: DateRange, scope: OfficialsScope, limit = 50): Promise<FieldEntry[]> {
    const rows = await this.db.query<{ id: number; commune: string; day: string | Date; households_visited: number; phones_checked: number; installs_helped: number; entered_by: string; entered_at: Date | string }>(
      `SELECT id, commune, to_char(day, 'YYYY-MM-DD') AS day, households_visited, phones_checked, installs_helped, entered_by, entered_at FROM field_reports
        WHERE day >= $1 AND day <= $2 AND commune = ANY($3::text[]) ORDER BY day DESC, id DESC LIMIT $4`,
      [range.from, range.to, communesOf(scope, this.locality), limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      commune: r.commune,
      day: String(r.day),
      householdsVisited: Number(r.households_visited),
      phonesChecked: Number(r.phones_checked),
      installsHelped: Number(r.installs_helped),
      enteredBy: r.entered_by,
      enteredAt: new Date(r.entered_at),
    }));
  }

  /** The local date today in the district. */
  today(now: Date): string {
    return new Intl.DateTimeFormat('en-CA', { timeZone: this.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  }

  /** The range of the report due to the office: the 30 days up to its due date (or up to today, before it). */
  reportRange(today: string): DateRange {
    const to = today < this.settings.report.due ? today : this.settings.report.due;
    return { from: addDays(to, -29), to };
  }
}
