import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { FlowValidationError } from '../src/engine/loadFlows';
import { loadDefinitions } from '../src/runtime';
import { buildEngine, Conversation, show, startServer, tempDir } from './support/harness';

const base = { localityFile: path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), localesDir: path.join(PROJECT_ROOT, 'locales'), flowsDir: path.join(PROJECT_ROOT, 'flows') };

function flowsWith(change: (flows: Record<string, Record<string, unknown>>) => void): string {
  const dir = tempDir();
  const flows: Record<string, Record<string, unknown>> = {};
  for (const f of fs.readdirSync(base.flowsDir)) flows[path.basename(f, '.json')] = JSON.parse(fs.readFileSync(path.join(base.flowsDir, f), 'utf8'));
  change(flows);
  for (const [id, flow] of Object.entries(flows)) fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(flow));
  return dir;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof FlowValidationError) return err.problems;
    throw err;
  }
  throw new Error('expected the flows to be refused');
}

describe('flows declare their entry steps, and the loader checks them', () => {
  it('refuses an entry step from which an action that deletes runs before any question', () => {
    const flowsDir = flowsWith((f) => (f.deletedata!.entries = ['erase']));
    expect(problemsOf(() => loadDefinitions({ ...base, flowsDir }))).toEqual([
      expect.stringMatching(/deletedata\.json: entries/),
    ]);
    expect(problemsOf(() => loadDefinitions({ ...base, flowsDir }))[0]).toContain(
      "deletedata.json: entries (step 'erase'): a link to this step would run action 'eraseMyData' (step 'erase') before the person answers anything; put a question (a confirmation) before it, or open the flow elsewhere",
    );
  });

  it('refuses a flow whose start stores something before the first question, and an entry naming no step', () => {
    const flowsDir = flowsWith((f) => {
      f.declaration!.start = 'submit';
      f.epidemic!.entries = ['nowhere'];
    });
    const problems = problemsOf(() => loadDefinitions({ ...base, flowsDir }));
    expect(problems).toContainEqual(expect.stringContaining("declaration.json: start: a link to this step would run action 'submitDeclaration'"));
    expect(problems).toContainEqual(expect.stringContaining("epidemic.json: entries.0: unknown step id 'nowhere'"));
  });
});

describe('a deep link opens a flow only at an entry step', () => {
  const { engine } = buildEngine();

  it('a link to a step that is not an entry opens the flow at its start', async () => {
    const c = new Conversation(engine, 'telegram', 'deep-1');
    await c.onboard();
    await c.start('declaration__enrol');
    expect(c.session).toMatchObject({ flow: 'declaration', step: 'choose' });
    await c.start('declaration__name');
    expect(c.session).toMatchObject({ flow: 'declaration', step: 'choose' });
  });

  it('a link to an entry step opens it (the nearest station asks for the location)', async () => {
    const c = new Conversation(engine, 'telegram', 'deep-2');
    await c.onboard();
    await c.start('epidemic__where');
    expect(c.session).toMatchObject({ flow: 'epidemic', step: 'where' });
  });
});

describe('links that name actions never store, count or delete anything', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const count = async (sql: string, params: unknown[] = []) => Number((await server.runtime.db.query<{ n: number }>(sql, params))[0]!.n);

  it('/start deletedata__erase, declaration__submit, report__submit and bluezone__record only open the flows', async () => {
    const user = 'deep-link-user';
    const r = server.runtime;
    let seq = 0;
    const start = async (payload?: string) => {
      const outcome = await r.pipeline.handle({ channel: 'telegram', userId: user, eventId: `dl-${++seq}`, kind: 'start', ...(payload ? { payload } : {}) });
      if (outcome.status !== 'handled') throw new Error('expected the event to be handled');
      return { text: show(outcome.replies), session: outcome.session };
    };
    const say = (text: string) => r.pipeline.handle({ channel: 'telegram', userId: user, eventId: `dl-${++seq}`, kind: 'text', text });
    await start();
    await say('1');
    await say('ban pho');
    await say('2');
    await r.records.repo.createRecord(
      {
        kind: 'symptoms',
        channel: 'telegram',
        userId: user,
        commune: 'ban-pho',
        urgency: 'notice',
        data: { locale: 'vi' },
        reporterVisible: true,
        idempotencyKey: 'telegram:seed',
        noticeChatId: null,
        localDay: '210715',
        now: new Date(),
        deleteAfter: new Date(Date.now() + 86_400_000),
      },
      () => null,
    );
    const records = () => count('SELECT count(*)::int AS n FROM records WHERE user_id = $1', [user]);
    expect(await records()).toBe(1);

    const erase = await start('deletedata__erase');
    expect(erase.session).toMatchObject({ flow: 'deletedata', step: 'confirm' });
    expect(await records()).toBe(1);

    expect((await start('declaration__submit')).session).toMatchObject({ flow: 'declaration', step: 'choose' });
    expect((await start('report__submit')).session.flow).toBe('report');
    expect(await records()).toBe(1);

    expect((await start('bluezone__record')).session).toMatchObject({ flow: 'bluezone', step: 'phone' });
    expect(await r.campaign.countInstalls()).toEqual({});
  });
});
