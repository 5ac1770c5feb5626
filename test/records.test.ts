import type { Runtime } from '../src/runtime';
import { startServer, WebUser } from './support/harness';

/** Walks the web chat to the menu: Vietnamese, Bản Phố. */
async function onboard(u: WebUser): Promise<void> {
  await u.start();
  await u.say('1');
  await u.say('ban pho');
}

async function count(runtime: Runtime, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await runtime.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) AS q`, params);
  return Number(row!.n);
}

/** Answers a whole health declaration for oneself, up to the summary. */
async function declareUpToSummary(u: WebUser, symptoms = '1 2'): Promise<string> {
  await u.say('khai bao y te');
  await u.say('2'); // tell the commune health station
  await u.say('1'); // for myself
  await u.say('Giàng Thị Mai');
  await u.say('1985');
  await u.say('2'); // female
  await u.say('0912 345 678');
  await u.say('1'); // yes, my commune
  await u.say('Thôn Na Lang');
  let out = await u.say(symptoms);
  if (out.includes('dấu hiệu nào')) out = await u.say('4'); // no danger signs
  if (out.includes('Gọi ngay 115')) out = await u.say('1'); // a danger sign: go on with the form
  await u.say('3'); // no travel
  await u.say('3'); // no contact
  await u.say('5'); // no chronic illness
  return u.say('1'); // may be called
}

describe('health declaration', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer({ OFFICIALS_TELEGRAM_CHAT_ID: '-1001' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('asks one question at a time with progress, summarises, stores nothing before the confirmation, then one record with a reference', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    await u.say('1');
    const first = await u.say('2');
    expect(first).toContain('Câu 1/');
    const summary = await declareUpToSummary(u);
    expect(summary).toContain('• Họ tên: Giàng Thị Mai');
    expect(summary).toContain('• Điện thoại: 0912 345 678');
    expect(summary).toContain('• Xã: Xã Bản Phố');
    expect(summary).toContain('• Triệu chứng: Sốt, Ho');
    expect(await count(server.runtime, 'SELECT 1 FROM records WHERE user_id = $1', [u.userId])).toBe(0);

    const done = await u.say('1');
    expect(done).toMatch(/Mã số: KB-\d{6}-\d{4}/);
    // The notice is only queued: the person is told it is on its way, never that the station has been told.
    expect(done).toContain('Đã ghi nhận, đang chuyển cho trạm y tế xã');
    expect(done).not.toContain('Trạm y tế đã được báo');
    expect(done).not.toContain('sẽ gọi cho');
    const [record] = await server.runtime.db.query<{ kind: string; commune: string; urgency: string; rule_version: string; triage_level: string; data: Record<string, unknown> }>(
      'SELECT kind, commune, urgency, rule_version, triage_level, data FROM records WHERE user_id = $1',
      [u.userId],
    );
    expect(record).toMatchObject({ kind: 'declaration', commune: 'ban-pho', urgency: 'notice', triage_level: 'isolate', rule_version: 'bac-ha-2021-07-v1' });
    expect(record!.data).toMatchObject({ name: 'Giàng Thị Mai', birthYear: 1985, phone: '+84912345678', symptoms: ['fever', 'cough'], consent: true });
    // Web chat users get no reminders (the web chat cannot push), so no daily follow-up is offered there.
    expect(done).toContain('Anh/Chị cần gì thêm?');
  });

  it('sends difficulty breathing straight to "call 115" with an urgent notice', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    const summary = await declareUpToSummary(u, '4');
    expect(summary).toContain('Mời kiểm tra lại');
    const done = await u.say('1');
    expect(done).toContain('Gọi ngay 115');
    expect(done).not.toContain('Trạm y tế đã được báo');
    const [record] = await server.runtime.db.query<{ urgency: string }>('SELECT urgency FROM records WHERE user_id = $1', [u.userId]);
    expect(record!.urgency).toBe('urgent');
  });

  it('without symptoms or exposure gives advice and the 5K rules', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    await declareUpToSummary(u, '7');
    const done = await u.say('1');
    expect(done).toContain('5K');
    const [record] = await server.runtime.db.query<{ urgency: string; triage_level: string }>('SELECT urgency, triage_level FROM records WHERE user_id = $1', [u.userId]);
    expect(record).toEqual({ urgency: 'info', triage_level: 'advice' });
  });

  it('re-asks clearly on bad answers and stores nothing', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    await u.say('1');
    await u.say('2');
    await u.say('1');
    expect(await u.say('12345')).toContain('Tên chỉ có chữ cái');
    expect(await u.say('x'.repeat(10_000))).toContain('Tên dài quá');
    await u.say('Giàng Thị Mai');
    expect(await u.say('2099')).toMatch(/không thể sau năm \d{4}/);
    await u.say('1985');
    await u.say('2');
    expect(await u.say('0123')).toContain('Số điện thoại chưa đúng');
    await u.say('0912345678');
    await u.say('1');
    expect(await u.say('y'.repeat(10_000))).toContain('Câu trả lời dài quá');
    expect(await count(server.runtime, 'SELECT 1 FROM records WHERE user_id = $1', [u.userId])).toBe(0);
  });

  it('lets one field be edited from the summary', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    await declareUpToSummary(u);
    await u.say('2');
    expect(await u.say('ho ten')).toContain('Họ và tên');
    const summary = await u.say('Lò Văn Páo');
    expect(summary).toContain('• Họ tên: Lò Văn Páo');
    await u.say('1');
    const [record] = await server.runtime.db.query<{ data: { name: string } }>('SELECT data FROM records WHERE user_id = $1', [u.userId]);
    expect(record!.data.name).toBe('Lò Văn Páo');
  });

  it('the same confirmation delivered twice makes one record', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    await declareUpToSummary(u);
    const id = u.nextEventId();
    const [a, b] = await Promise.all([u.post({ type: 'text', text: '1', userId: u.userId, eventId: id }), u.post({ type: 'text', text: '1', userId: u.userId, eventId: id })]);
    expect([a.json.duplicate, b.json.duplicate].sort()).toEqual([false, true]);
    await u.say('1', id);
    expect(await count(server.runtime, 'SELECT 1 FROM records WHERE user_id = $1', [u.userId])).toBe(1);
    expect(await count(server.runtime, "SELECT 1 FROM notices n JOIN records r ON r.id = n.record_id WHERE r.user_id = $1 AND n.recipient = '-1001'", [u.userId])).toBe(1);
  });

  it('"my reports" lists the reference and status; "delete my data" deletes the records', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    await declareUpToSummary(u);
    const done = await u.say('1');
    const reference = /KB-\d{6}-\d{4}/.exec(done)![0];
    const mine = await u.say('bao cao cua toi');
    expect(mine).toContain(`${reference} · Khai báo y tế`);
    expect(mine).toContain('đã ghi nhận');

    expect(await u.say('xoa du lieu')).toContain('không hoàn tác');
    const who = u.userId;
    await u.say('1');
    expect(await count(server.runtime, 'SELECT 1 FROM records WHERE user_id = $1', [who])).toBe(0);
    // The web chat ends the identity with the data: the next message is someone new, who has no reports.
    expect(u.cookie).toBeNull();
    await onboard(u);
    expect(u.userId).not.toBe(who);
    expect(await u.say('bao cao cua toi')).toContain('chưa gửi báo cáo nào');
  });
});

describe('reports of symptoms and of people', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer({ OFFICIALS_TELEGRAM_CHAT_ID: '-1002' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('a quick symptom report makes a record and a notice', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    await u.say('bao trieu chung');
    await u.say('1');
    await u.say('4'); // no danger signs
    await u.say('0912345678');
    await u.say('1');
    await u.say('Thôn Na Lang');
    const done = await u.say('1');
    expect(done).toMatch(/Mã số: TC-\d{6}-\d{4}/);
    expect(await count(server.runtime, "SELECT 1 FROM records WHERE user_id = $1 AND kind = 'symptoms'", [u.userId])).toBe(1);
  });

  it('an anonymous report of a person never carries the reporter to the officials', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    await u.say('bao nguoi ve tu vung dich');
    await u.say('2'); // another commune
    await u.say('coc ly');
    await u.say('Thôn Sín Chải, nhà ông <b>A</b>');
    await u.say('bo qua');
    await u.say('1'); // today
    await u.say('2 người từ Trung Quốc về <a href="http://x">xem</a>');
    await u.say('1'); // skip photo
    const summary = await u.say('1'); // anonymous
    expect(summary).toContain('• Xã: Xã Cốc Ly');
    const done = await u.say('1');
    expect(done).toMatch(/Mã số: PA-\d{6}-\d{4}/);
    const reference = /PA-\d{6}-\d{4}/.exec(done)![0];
    const [record] = await server.runtime.db.query<{ user_id: string; commune: string; reporter_visible: boolean; data: Record<string, unknown> }>(
      'SELECT user_id, commune, reporter_visible, data FROM records WHERE reference = $1',
      [reference],
    );
    expect(record).toMatchObject({ commune: 'coc-ly', reporter_visible: false });
    expect(record!.user_id).not.toContain(u.userId);
    expect(record!.data.phone).toBeUndefined();
    const [notice] = await server.runtime.db.query<{ replies: Array<{ text: string }> }>(
      'SELECT n.replies FROM notices n JOIN records r ON r.id = n.record_id WHERE r.reference = $1',
      [reference],
    );
    const text = notice!.replies.map((r) => r.text).join('\n');
    expect(text).toContain('Người báo: giấu tên');
    // No one to call: an anonymous report is never labelled "CẦN GỌI".
    expect(text).not.toContain('CẦN GỌI');
    expect(text).toContain('CẦN XÁC MINH');
    expect(text).toContain('nhà ông <b>A</b>');
    expect(text).not.toContain('+84');
  });

  it('limits how many reports one person sends in an hour', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      await u.say('bao trieu chung');
      await u.say('2');
      await u.say('4');
      await u.say('0912345678');
      await u.say('1');
      await u.say('Thôn Na Lang');
      outcomes.push(await u.say('1'));
    }
    expect(outcomes.filter((o) => /TC-\d{6}/.test(o))).toHaveLength(5);
    expect(outcomes[5]).toContain('nhiều báo cáo trong một giờ');
    expect(await count(server.runtime, 'SELECT 1 FROM records WHERE user_id = $1', [u.userId])).toBe(5);
  });
});

describe('a district without an officials\' group', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer({});
  });
  afterAll(async () => {
    await server.close();
  });

  it('tells the citizen an official will look at it and gives a phone to call, never that the station was told', async () => {
    const u = new WebUser(server.url);
    await onboard(u);
    await u.say('bao trieu chung');
    await u.say('1');
    await u.say('4'); // no danger signs
    await u.say('0912345678');
    await u.say('1');
    await u.say('Thôn Na Lang');
    const done = await u.say('1');
    expect(done).toContain('Đã ghi nhận, cán bộ sẽ xem. Nếu cần gấp, gọi 1900 9095.');
    expect(done).not.toContain('trạm y tế đã');
    expect(done).not.toContain('Trạm y tế đã');
  });
});
