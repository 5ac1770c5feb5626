import crypto from 'node:crypto';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { openDatabase, type Database } from '../src/db/Database';
import { migrate } from '../src/db/migrate';
import { RecordsRepository, type NewRecord } from '../src/records/RecordsRepository';
import { PgTokenStore } from '../src/channels/zalo/PgTokenStore';

/**
 * The storage contract, on the embedded engine (PGlite) always, and on the PostgreSQL server too when
 * DATABASE_URL is set (`.ci/run` sets it when the CI machine's server answers). Each run uses its own schema.
 */
const engines: Array<[string, string | undefined]> = [['PGlite', undefined]];
if (process.env.DATABASE_URL) engines.push(['PostgreSQL', process.env.DATABASE_URL]);

const NOW = new Date('2021-07-15T01:00:00Z');

function newRecord(over: Partial<NewRecord> = {}): NewRecord {
  return {
    kind: 'declaration',
    channel: 'telegram',
    userId: '111',
    commune: 'ban-pho',
    urgency: 'notice',
    data: { name: 'Giàng Thị Mai' },
    reporterVisible: true,
    idempotencyKey: `telegram:${crypto.randomUUID()}`,
    noticeChatId: '-100',
    localDay: '210715',
    now: NOW,
    deleteAfter: new Date(NOW.getTime() + 30 * 86_400_000),
    ...over,
  };
}

describe.each(engines)('records storage on %s', (_name, url) => {
  let db: Database;
  let repo: RecordsRepository;
  const schema = `t_${crypto.randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: url, dataDir: null, schema: url ? schema : undefined });
    await migrate(db, path.join(PROJECT_ROOT, 'migrations'));
    repo = new RecordsRepository(db);
  });
  afterAll(async () => {
    if (url) await db.query(`DROP SCHEMA ${schema} CASCADE`);
    await db.close();
  });

  it('migrates once: a second run applies nothing', async () => {
    expect(await migrate(db, path.join(PROJECT_ROOT, 'migrations'))).toEqual([]);
  });

  it('numbers records per kind and per day: KB-210715-0001, KB-210715-0002, TC-210715-0001', async () => {
    const a = await repo.createRecord(newRecord({ localDay: '990101' }), () => null);
    const b = await repo.createRecord(newRecord({ localDay: '990101' }), () => null);
    const c = await repo.createRecord(newRecord({ localDay: '990101', kind: 'symptoms' }), () => null);
    const d = await repo.createRecord(newRecord({ localDay: '990102' }), () => null);
    expect([a, b, c, d].map((x) => x.record.reference)).toEqual(['KB-990101-0001', 'KB-990101-0002', 'TC-990101-0001', 'KB-990102-0001']);
  });

  it('stores a record and its notice together, once per idempotency key', async () => {
    const input = newRecord();
    const first = await repo.createRecord(input, (r) => [{ kind: 'text', text: `notice ${r.reference}` }]);
    const again = await repo.createRecord(input, (r) => [{ kind: 'text', text: `notice ${r.reference}` }]);
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.record.reference).toBe(first.record.reference);
    const notices = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notices WHERE record_id = $1', [first.record.id]);
    expect(Number(notices[0]!.n)).toBe(1);
  });

  it('writes nothing when the notice cannot be built', async () => {
    const input = newRecord();
    await expect(
      repo.createRecord(input, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.query('SELECT 1 FROM records WHERE idempotency_key = $1', [input.idempotencyKey])).toHaveLength(0);
  });

  it('lets only the group the notice went to change the status, forward only, and keeps who and when', async () => {
    const { record } = await repo.createRecord(newRecord({ noticeChatId: '-555' }), () => null);
    const by = { officialId: '7', officialName: 'Cán bộ A', chatId: '-999' };
    expect(await repo.changeStatus(record.id, 'acknowledged', by, NOW)).toEqual({ ok: false, reason: 'wrong-chat' });
    const ok = await repo.changeStatus(record.id, 'acknowledged', { ...by, chatId: '-555' }, NOW);
    expect(ok).toMatchObject({ ok: true, changed: true, record: { status: 'acknowledged' } });
    expect(await repo.changeStatus(record.id, 'acknowledged', { ...by, chatId: '-555' }, NOW)).toMatchObject({ ok: true, changed: false });
    await repo.changeStatus(record.id, 'resolved', { ...by, chatId: '-555', officialName: 'Cán bộ B' }, new Date(NOW.getTime() + 60_000));
    expect(await repo.changeStatus(record.id, 'acknowledged', { ...by, chatId: '-555' }, NOW)).toMatchObject({ ok: true, changed: false, record: { status: 'resolved' } });
    const changes = await repo.statusChanges(record.id);
    expect(changes.map((c) => [c.status, c.officialName, c.chatId])).toEqual([
      ['acknowledged', 'Cán bộ A', '-555'],
      ['resolved', 'Cán bộ B', '-555'],
    ]);
    expect(await repo.changeStatus(999_999, 'acknowledged', by, NOW)).toEqual({ ok: false, reason: 'not-found' });
  });

  it('hands each due notice to one claimer, and again after its lease if it was not sent', async () => {
    await db.query('UPDATE notices SET sent_at = $1 WHERE sent_at IS NULL', [NOW.toISOString()]);
    await repo.enqueueNotice({ recordId: null, channel: 'telegram', recipient: '-1', replies: [{ kind: 'text', text: 'a' }], now: NOW });
    await repo.enqueueNotice({ recordId: null, channel: 'telegram', recipient: '-1', replies: [{ kind: 'text', text: 'b' }], now: NOW });
    const [x, y] = await Promise.all([repo.claimDueNotices(NOW, 10, 60_000), repo.claimDueNotices(NOW, 10, 60_000)]);
    expect([...x!, ...y!].map((n) => n.replies[0]!.kind === 'text' && n.replies[0]!.text).sort()).toEqual(['a', 'b']);
    expect(await repo.claimDueNotices(NOW, 10, 60_000)).toEqual([]);
    const later = await repo.claimDueNotices(new Date(NOW.getTime() + 61_000), 10, 60_000);
    expect(later).toHaveLength(2);
    await repo.markNoticeSent(later[0]!.id, NOW);
    await repo.markNoticeFailed(later[1]!.id, 'HTTP 502', new Date(NOW.getTime() + 200_000), NOW);
    expect(await repo.claimDueNotices(new Date(NOW.getTime() + 199_000), 10, 60_000)).toEqual([]);
    expect((await repo.claimDueNotices(new Date(NOW.getTime() + 200_000), 10, 60_000)).map((n) => n.attempts)).toEqual([1]);
  });

  it('retention deletes what is past its date and nothing else', async () => {
    const old = await repo.createRecord(newRecord({ userId: 'ret', deleteAfter: new Date('2021-07-10T00:00:00Z') }), () => [{ kind: 'text', text: 'n' }]);
    const fresh = await repo.createRecord(newRecord({ userId: 'ret', deleteAfter: new Date('2021-08-10T00:00:00Z') }), () => null);
    const before = Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM records'))[0]!.n);
    const deleted = await repo.purgeExpired(new Date('2021-07-15T00:00:00Z'));
    expect(deleted).toBe(1);
    expect(await repo.findRecord(old.record.id)).toBeNull();
    expect(await repo.findRecord(fresh.record.id)).not.toBeNull();
    expect(Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM records'))[0]!.n)).toBe(before - 1);
    expect(await db.query('SELECT 1 FROM notices WHERE record_id = $1', [old.record.id])).toHaveLength(0);
  });

  it('erases one person\'s records and follow-ups, nobody else\'s', async () => {
    const mine = await repo.createRecord(newRecord({ userId: 'erase-me' }), () => null);
    await repo.enrol({ recordId: mine.record.id, channel: 'telegram', userId: 'erase-me', commune: 'ban-pho', startsOn: '2021-07-15', endsOn: '2021-07-28', now: NOW });
    const other = await repo.createRecord(newRecord({ userId: 'keep-me' }), () => null);
    expect(await repo.eraseUser('telegram', 'erase-me')).toBe(1);
    expect(await repo.recordsOfUser('telegram', 'erase-me', 10)).toEqual([]);
    expect(await repo.activeEnrolment('telegram', 'erase-me', '2021-07-16')).toBeNull();
    expect(await repo.findRecord(other.record.id)).not.toBeNull();
  });

  it('claims a daily job once across concurrent callers', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => repo.claimJob('reminder', '42', '2021-07-15')));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await repo.hasJob('reminder', '42', '2021-07-15')).toBe(true);
    expect(await repo.hasJob('reminder', '42', '2021-07-16')).toBe(false);
  });

  it('finds the active home-quarantine enrolment by date and keeps one update per event', async () => {
    const { record } = await repo.createRecord(newRecord({ userId: 'q1' }), () => null);
    await repo.enrol({ recordId: record.id, channel: 'telegram', userId: 'q1', commune: 'ban-pho', startsOn: '2021-07-15', endsOn: '2021-07-28', now: NOW });
    await repo.enrol({ recordId: record.id, channel: 'telegram', userId: 'q1', commune: 'ban-pho', startsOn: '2021-07-15', endsOn: '2021-07-28', now: NOW });
    expect(await repo.activeEnrolment('telegram', 'q1', '2021-07-14')).toBeNull();
    const e = await repo.activeEnrolment('telegram', 'q1', '2021-07-20');
    expect(e?.recordId).toBe(record.id);
    await repo.addDailyUpdate({ enrolmentId: e!.id, day: '2021-07-20', temperature: 37.5, symptoms: ['cough'], idempotencyKey: 'telegram:u1', now: NOW });
    await repo.addDailyUpdate({ enrolmentId: e!.id, day: '2021-07-20', temperature: 37.5, symptoms: ['cough'], idempotencyKey: 'telegram:u1', now: NOW });
    expect(await repo.hasDailyUpdate(e!.id, '2021-07-20')).toBe(true);
    expect(await repo.hasDailyUpdate(e!.id, '2021-07-21')).toBe(false);
    expect(await db.query('SELECT 1 FROM daily_updates WHERE enrolment_id = $1', [e!.id])).toHaveLength(1);
  });

  it('keeps the newest Zalo token pair durably, one row, readable after reopening the store', async () => {
    const store = new PgTokenStore(db);
    expect(await store.load()).toBeNull();
    const first = { accessToken: 'acc-1', refreshToken: 'ref-1', expiresAt: 1_700_000_000_000, obtainedAt: 1_699_900_000_000, seed: 'seed-a' };
    await store.save(first);
    const second = { ...first, accessToken: 'acc-2', refreshToken: 'ref-2' };
    await store.save(second);
    expect(await new PgTokenStore(db).load()).toEqual(second);
    expect(await db.query("SELECT 1 FROM channel_tokens WHERE channel = 'zalo'")).toHaveLength(1);
  });
});
