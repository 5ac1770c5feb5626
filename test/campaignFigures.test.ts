import crypto from 'node:crypto';
import path from 'node:path';
import { PgCampaignStore } from '../src/campaign/PgCampaignStore';
import { CampaignFigures, type FigureProvider } from '../src/campaign/CampaignFigures';
import { buildReportTable, renderReportCsv } from '../src/campaign/campaignReport';
import { meetsTarget, parseDateRange, percentOf, rangeInstants, ratio, sumFigures } from '../src/campaign/figures';
import { PROJECT_ROOT } from '../src/config';
import { loadLocality, type Locality } from '../src/locality/localitySchema';
import { openDatabase, type Database } from '../src/db/Database';
import { migrate } from '../src/db/migrate';
import { MIGRATIONS_DIR } from '../src/runtime';

const known = (value: number | null) => ({ value, source: 'test', date: '2021-07-01' });
const above50 = { percent: 50, comparison: 'above' as const, by: '2021-07-31' };
const all100 = { percent: 100, comparison: 'atLeast' as const, by: null };

describe('campaign figures: percentages and targets', () => {
  it('gives a percentage only against a known, non-zero denominator', () => {
    expect(percentOf(3, known(4))).toBe(75);
    expect(percentOf(1, known(3))).toBe(33.3);
    expect(percentOf(5, known(null))).toBeNull();
    expect(percentOf(5, known(0))).toBeNull();
    expect(percentOf(5, null)).toBeNull();
    expect(percentOf(6, known(4))).toBe(150);
  });

  it('"more than 50 %" is not met at exactly 50 %; "100 %" is met at 100 %; no percentage meets nothing', () => {
    expect(meetsTarget(50, above50)).toBe(false);
    expect(meetsTarget(50.1, above50)).toBe(true);
    expect(meetsTarget(100, all100)).toBe(true);
    expect(meetsTarget(99.9, all100)).toBe(false);
    expect(meetsTarget(null, above50)).toBeNull();
    expect(ratio(2, known(null), above50)).toEqual({ count: 2, denominator: known(null), percent: null, met: null });
  });

  it('sums denominators only when every part is known (a partial sum would understate it)', () => {
    expect(sumFigures([known(10), { value: 5, source: 'x', date: '2021-07-05' }], 'sum')).toEqual({ value: 15, source: 'sum', date: '2021-07-05' });
    expect(sumFigures([known(10), known(null)], 'sum')).toBeNull();
    expect(sumFigures([known(10), undefined], 'sum')).toBeNull();
    expect(sumFigures([], 'sum')).toBeNull();
  });
});

describe('campaign figures: date ranges', () => {
  it('defaults to the 30 days up to today, and reads typed dates', () => {
    expect(parseDateRange({}, '2021-07-20')).toEqual({ ok: true, range: { from: '2021-06-21', to: '2021-07-20' } });
    expect(parseDateRange({ from: ' 2021-07-01 ', to: '2021-07-20' }, '2021-08-01')).toEqual({ ok: true, range: { from: '2021-07-01', to: '2021-07-20' } });
    expect(parseDateRange({ from: '2021-07-20', to: '2021-07-20' }, '2021-08-01')).toEqual({ ok: true, range: { from: '2021-07-20', to: '2021-07-20' } });
  });

  it('names the field of a bad range: impossible dates, wrong order, too long', () => {
    expect(parseDateRange({ from: '2021-02-30' }, '2021-07-20')).toEqual({ ok: false, field: 'from', problem: 'format' });
    expect(parseDateRange({ to: '20/07/2021' }, '2021-07-20')).toEqual({ ok: false, field: 'to', problem: 'format' });
    expect(parseDateRange({ from: '2021-07-21', to: '2021-07-20' }, '2021-07-20')).toEqual({ ok: false, field: 'from', problem: 'order' });
    expect(parseDateRange({ from: '2020-01-01', to: '2021-07-20' }, '2021-07-20')).toEqual({ ok: false, field: 'from', problem: 'length' });
    expect(parseDateRange({ from: ['2021-07-01'] }, '2021-07-20')).toEqual({ ok: true, range: { from: '2021-06-21', to: '2021-07-20' } });
  });

  it('a local date range covers the district\'s days, not UTC days', () => {
    const { start, end } = rangeInstants({ from: '2021-07-01', to: '2021-07-20' }, 'Asia/Ho_Chi_Minh');
    expect(start.toISOString()).toBe('2021-06-30T17:00:00.000Z');
    expect(end.toISOString()).toBe('2021-07-20T17:00:00.000Z');
  });
});

/** PGlite always; a PostgreSQL server too when DATABASE_URL is set (`.ci/run`), in a schema of its own. */
const engines: Array<[string, string | undefined]> = [['PGlite', undefined]];
if (process.env.DATABASE_URL) engines.push(['PostgreSQL', process.env.DATABASE_URL]);

describe.each(engines)('campaign figures from the database (%s)', (_engine, url) => {
  const schema = `t_${crypto.randomBytes(4).toString('hex')}`;
  let db: Database;
  let locality: Locality;
  const at = (iso: string) => Date.parse(iso);

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: url, dataDir: null, schema: url ? schema : undefined });
    await migrate(db, MIGRATIONS_DIR);
    locality = loadLocality(path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'));
    locality.campaign.communes['ban-pho'] = { population: known(100), smartphoneUsers: known(4), officials: known(1) };
    locality.campaign.agencies[0]!.officials = known(2);
    const store = new PgCampaignStore(db);
    // Bản Phố: one install on 30 June (before the range), two within it (one 07:30 local on 1 July = 00:30 UTC),
    // one on 21 July local (after it). Cốc Ly: one within the range.
    const installs: Array<[string, string, string]> = [
      ['a', 'ban-pho', '2021-06-30T03:00:00Z'],
      ['b', 'ban-pho', '2021-07-01T00:30:00Z'],
      ['c', 'ban-pho', '2021-07-10T03:00:00Z'],
      ['d', 'ban-pho', '2021-07-20T18:00:00Z'],
      ['e', 'coc-ly', '2021-07-05T03:00:00Z'],
    ];
    for (const [userId, commune, when] of installs) await store.recordInstall({ channel: 'telegram', userId, commune, eventId: `ev-${userId}`, at: at(when) });
    await store.markOfficial({ channel: 'telegram', userId: 'a', commune: 'ban-pho', unit: 'commune:ban-pho', at: at('2021-06-30T03:00:00Z') });
    await store.markOfficial({ channel: 'telegram', userId: 'e', commune: 'coc-ly', unit: `agency:${locality.campaign.agencies[0]!.id}`, at: at('2021-07-05T03:00:00Z') });
    await store.markOfficial({ channel: 'telegram', userId: 'b', commune: 'ban-pho', unit: 'none', at: at('2021-07-01T00:30:00Z') });
    await store.markDeclared({ channel: 'telegram', userId: 'b', commune: 'ban-pho', declared: true, at: at('2021-07-01T00:30:00Z') });
    await store.markDeclared({ channel: 'telegram', userId: 'c', commune: 'ban-pho', declared: false, at: at('2021-07-10T03:00:00Z') });
    const figures = new CampaignFigures(db, locality);
    await figures.addFieldReport({ commune: 'ban-pho', day: '2021-07-02', householdsVisited: 10, phonesChecked: 8, installsHelped: 3, enteredBy: 'x', idempotencyKey: 'k1', now: new Date() });
    await figures.addFieldReport({ commune: 'ban-pho', day: '2021-07-25', householdsVisited: 99, phonesChecked: 99, installsHelped: 99, enteredBy: 'x', idempotencyKey: 'k2', now: new Date() });
    expect(await figures.addFieldReport({ commune: 'ban-pho', day: '2021-07-02', householdsVisited: 10, phonesChecked: 8, installsHelped: 3, enteredBy: 'x', idempotencyKey: 'k1', now: new Date() })).toEqual({ created: false });
  });
  afterAll(async () => {
    if (url) await db?.query(`DROP SCHEMA ${schema} CASCADE`);
    await db?.close();
  });

  it('counts installs up to the end of the range (local days), installs within it, officials, declarations and field work', async () => {
    const f = await new CampaignFigures(db, locality).figures({ from: '2021-07-01', to: '2021-07-20' }, { kind: 'district' });
    const banPho = f.communes.find((c) => c.id === 'ban-pho')!;
    expect(banPho.installs).toEqual({ count: 3, denominator: known(4), percent: 75, met: true });
    expect(banPho.installsInRange).toBe(2);
    expect(banPho.officials).toEqual({ count: 1, denominator: known(1), percent: 100, met: true });
    expect(banPho.declared).toBe(1);
    expect(banPho.field).toEqual({ householdsVisited: 10, phonesChecked: 8, installsHelped: 3, entries: 1 });
    expect(banPho.behind).toBe(false);
    const cocLy = f.communes.find((c) => c.id === 'coc-ly')!;
    expect(cocLy.installs).toEqual({ count: 1, denominator: { value: null, source: 'chưa có', date: null }, percent: null, met: null });
    expect(cocLy.behind).toBe(false);
    expect(f.agencies[0]!.officials).toEqual({ count: 1, denominator: known(2), percent: 50, met: false });
    // The district's smartphone users are not all known: a count, no percentage.
    expect(f.district!.installs.count).toBe(4);
    expect(f.district!.installs.percent).toBeNull();
    expect(f.district!.population).toEqual(locality.campaign.district.population);
    expect(f.trend[0]).toEqual({ day: '2021-07-01', installs: 2 });
    expect(f.trend.at(-1)).toEqual({ day: '2021-07-20', installs: 4 });
  });

  it('the report\'s range ends on its due date (20 July), or today before it', () => {
    const figures = new CampaignFigures(db, locality);
    expect(figures.reportRange('2021-08-02')).toEqual({ from: '2021-06-21', to: '2021-07-20' });
    expect(figures.reportRange('2021-07-15')).toEqual({ from: '2021-06-16', to: '2021-07-15' });
  });

  it('a commune scope holds that commune only', async () => {
    const f = await new CampaignFigures(db, locality).figures({ from: '2021-07-01', to: '2021-07-20' }, { kind: 'commune', commune: 'coc-ly' });
    expect(f.communes.map((c) => c.id)).toEqual(['coc-ly']);
    expect(f.agencies).toEqual([]);
    expect(f.district).toBeNull();
    expect(f.trend.at(-1)).toEqual({ day: '2021-07-20', installs: 1 });
  });

  it('a person who asks to be forgotten stays in the figures as a number only', async () => {
    const store = new PgCampaignStore(db);
    const before = await new CampaignFigures(db, locality).figures({ from: '2021-07-01', to: '2021-07-20' }, { kind: 'district' });
    await store.forget('telegram', 'a');
    await store.forget('telegram', 'b');
    expect(await db.query(`SELECT 1 FROM campaign_people WHERE user_id IN ('a', 'b')`)).toEqual([]);
    const after = await new CampaignFigures(db, locality).figures({ from: '2021-07-01', to: '2021-07-20' }, { kind: 'district' });
    const banPho = (f: typeof after) => f.communes.find((c) => c.id === 'ban-pho')!;
    expect(banPho(after).installs.count).toBe(banPho(before).installs.count);
    expect(banPho(after).officials.count).toBe(1);
    expect(banPho(after).declared).toBe(1);
  });

  it('more figures from another part (e.g. venues) join the table and the report as columns', async () => {
    const venues: FigureProvider = {
      id: 'venues',
      columns: [{ id: 'qrVenues', label: { vi: 'Địa điểm có mã QR', en: 'Venues with a QR code' } }],
      perCommune: async () => ({ 'ban-pho': { qrVenues: 7 } }),
    };
    const f = await new CampaignFigures(db, locality, [venues]).figures({ from: '2021-07-01', to: '2021-07-20' }, { kind: 'commune', commune: 'ban-pho' });
    expect(f.communes[0]!.extra).toEqual({ qrVenues: 7 });
    const csv = renderReportCsv(buildReportTable(f, (k) => k, { district: 'huyện Bắc Hà', generatedAt: 'now' }));
    expect(csv).toContain('Địa điểm có mã QR');
    expect(csv.split('\r\n').find((l) => l.startsWith('Xã Bản Phố'))!.endsWith(',7')).toBe(true);
  });

  it('the CSV quotes cells a spreadsheet would run as formulas', () => {
    const csv = renderReportCsv({ heading: ['=cmd|x'], header: ['a', 'b'], rows: [['=1+1', 3]], sections: [], notes: [] });
    expect(csv).toContain("'=cmd|x");
    expect(csv).toContain("'=1+1,3");
  });
});
