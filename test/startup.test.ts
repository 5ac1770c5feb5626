import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, PROJECT_ROOT } from '../src/config';
import { FlowValidationError } from '../src/engine/loadFlows';
import { LocalityFileError } from '../src/locality/localitySchema';
import { loadDefinitions } from '../src/runtime';
import { tempDir } from './support/harness';
import { spawnServer, waitForExit, waitForListening } from './support/processes';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof FlowValidationError || err instanceof LocalityFileError) return err.problems;
    throw err;
  }
  throw new Error('expected an error');
}

function copyDir(from: string): string {
  const dir = tempDir();
  for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(dir, f));
  return dir;
}

describe('configuration', () => {
  it('has working defaults: port 3000, in-memory sessions, Vietnamese, the bundled Bắc Hà file', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.redisUrl).toBeUndefined();
    expect(c.defaultLocale).toBe('vi');
    expect(c.localityFile).toBe(path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'));
    expect(c.dataDir).toBe(path.join(PROJECT_ROOT, 'data'));
  });

  it('keeps the embedded database on baseline code unless EMBEDDED_DB_CODE asks for the fast one, and names a bad value', () => {
    expect(loadConfig({}).embeddedDbCode).toBe('small');
    expect(loadConfig({ EMBEDDED_DB_CODE: 'fast' }).embeddedDbCode).toBe('fast');
    expect(problemsOf(() => loadConfig({ EMBEDDED_DB_CODE: 'quick' }))).toEqual([expect.stringMatching(/^EMBEDDED_DB_CODE: expected small .* or fast .*got "quick"/)]);
  });

  it('treats an empty value as not set', () => {
    expect(loadConfig({ REDIS_URL: '', PORT: '' }).redisUrl).toBeUndefined();
  });

  it('names each bad variable and what it expects, one line each', () => {
    const problems = problemsOf(() => loadConfig({ PORT: 'abc', REDIS_URL: 'nonsense', DEFAULT_LOCALE: 'fr', PUBLIC_URL: 'ftp://x' }));
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('PORT:'))).toMatch(/expected a port number.*got "abc"/);
    expect(problems.find((p) => p.startsWith('REDIS_URL:'))).toMatch(/redis:\/\/.*got "nonsense"/);
    expect(problems.find((p) => p.startsWith('DEFAULT_LOCALE:'))).toMatch(/expected vi or en/);
    expect(problems.find((p) => p.startsWith('PUBLIC_URL:'))).toMatch(/https:\/\//);
  });

  it('stops start-up with a non-zero exit, one line per bad variable and no stack trace', async () => {
    const { code, stderr } = await waitForExit(spawnServer({ PORT: 'abc', REDIS_URL: 'nonsense' }));
    expect(code).toBe(1);
    expect(stderr).toContain('PORT: expected a port number');
    expect(stderr).toContain('REDIS_URL: expected a redis:// or rediss:// URL');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('stops start-up naming REDIS_URL when Redis cannot be reached', async () => {
    const { code, stderr } = await waitForExit(spawnServer({ PORT: '0', REDIS_URL: 'redis://127.0.0.1:1' }));
    expect(code).toBe(1);
    expect(stderr).toContain('REDIS_URL: cannot reach Redis at 127.0.0.1:1');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('flow and data checks at start-up', () => {
  const base = { localityFile: path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), localesDir: path.join(PROJECT_ROOT, 'locales'), flowsDir: path.join(PROJECT_ROOT, 'flows') };

  it('accepts the bundled flows, locales and locality file', () => {
    const { flows, locality } = loadDefinitions(base);
    expect([...flows.byId.keys()].sort()).toEqual(['bluezone', 'callback', 'checkin', 'checkout', 'commune', 'contacts', 'daily', 'declaration', 'deletedata', 'epidemic', 'help', 'language', 'menu', 'myreports', 'onboarding', 'qr', 'report', 'services', 'subscriptions', 'symptoms', 'venue']);
    expect(locality.communes).toHaveLength(19);
  });

  it('names the file and the step of an unknown step id', () => {
    const flowsDir = copyDir(base.flowsDir);
    const file = path.join(flowsDir, 'commune.json');
    const flow = JSON.parse(fs.readFileSync(file, 'utf8'));
    flow.steps.pick.next = 'dnoe';
    fs.writeFileSync(file, JSON.stringify(flow));
    const problems = problemsOf(() => loadDefinitions({ ...base, flowsDir }));
    expect(problems).toEqual([expect.stringMatching(/commune\.json: steps\.pick\.next: unknown step id 'dnoe' \(steps are: pick, sync, done\)/)]);
  });

  it('names the file, the step and the key of a text missing in en', () => {
    const localesDir = tempDir();
    for (const l of ['vi', 'en']) {
      fs.mkdirSync(path.join(localesDir, l));
      for (const f of fs.readdirSync(path.join(base.localesDir, l))) fs.copyFileSync(path.join(base.localesDir, l, f), path.join(localesDir, l, f));
    }
    const enMenu = path.join(localesDir, 'en', 'menu.json');
    const texts = JSON.parse(fs.readFileSync(enMenu, 'utf8'));
    delete texts.question;
    fs.writeFileSync(enMenu, JSON.stringify(texts));
    const problems = problemsOf(() => loadDefinitions({ ...base, localesDir }));
    expect(problems).toEqual([expect.stringMatching(/menu\.json: steps\.main\.text: text key 'menu\.question' is missing in locale 'en'/)]);
  });

  it('names unknown validators, actions, option lists and flows, and schema errors with their path', () => {
    const flowsDir = copyDir(base.flowsDir);
    fs.writeFileSync(
      path.join(flowsDir, 'broken.json'),
      JSON.stringify({
        id: 'broken',
        version: 1,
        title: 'menu.title',
        start: 'a',
        steps: {
          a: { type: 'input', text: 'menu.question', validator: 'phonee', save: 'x', next: 'b' },
          b: { type: 'action', action: 'sendRocket', next: 'c' },
          c: { type: 'choice', text: 'menu.question', optionsFrom: 'planets', next: 'd' },
          d: { type: 'goto', flow: 'nowhere' },
          e: { type: 'choise', text: 'menu.question' },
        },
      }),
    );
    const problems = problemsOf(() => loadDefinitions({ ...base, flowsDir }));
    expect(problems).toEqual([expect.stringMatching(/broken\.json: steps\.e\.type: /)]);

    const flow = JSON.parse(fs.readFileSync(path.join(flowsDir, 'broken.json'), 'utf8'));
    delete flow.steps.e;
    fs.writeFileSync(path.join(flowsDir, 'broken.json'), JSON.stringify(flow));
    const again = problemsOf(() => loadDefinitions({ ...base, flowsDir })).join('\n');
    expect(again).toContain("steps.a.validator: unknown validator 'phonee'");
    expect(again).toContain("steps.b.action: unknown action 'sendRocket'");
    expect(again).toContain("steps.c.optionsFrom: unknown option list 'planets'");
    expect(again).toContain("steps.d.flow: unknown flow 'nowhere'");
  });

  it('names the path of a bad value in the locality file', () => {
    const file = path.join(tempDir(), 'loc.json');
    const loc = JSON.parse(fs.readFileSync(base.localityFile, 'utf8'));
    loc.communes[3].id = 'Bản Phố';
    loc.hotlines[0].number = 'call us';
    fs.writeFileSync(file, JSON.stringify(loc));
    const problems = problemsOf(() => loadDefinitions({ ...base, localityFile: file }));
    expect(problems).toEqual([
      expect.stringMatching(/^communes\.3\.id: /),
      expect.stringMatching(/^hotlines\.0\.number: /),
      // The campaign's denominators still name the old id.
      expect.stringMatching(/^campaign\.communes\.ban-pho: unknown commune id 'ban-pho'/),
    ]);
  });

  it('a broken flow stops the real server with a message naming the file, the step and the key', async () => {
    const flowsDir = copyDir(base.flowsDir);
    const file = path.join(flowsDir, 'language.json');
    const flow = JSON.parse(fs.readFileSync(file, 'utf8'));
    flow.steps.pick.next = 'nope';
    flow.steps.done.text = 'language.notThere';
    fs.writeFileSync(file, JSON.stringify(flow));
    const { code, stderr } = await waitForExit(spawnServer({ PORT: '0', FLOWS_DIR: flowsDir }));
    expect(code).toBe(1);
    expect(stderr).toContain("language.json: steps.pick.next: unknown step id 'nope'");
    expect(stderr).toContain("language.json: steps.done.text: text key 'language.notThere' is missing in locale 'vi'");
    expect(stderr).toContain("text key 'language.notThere' is missing in locale 'en'");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('the real server starts with no configuration at all and stops cleanly on SIGTERM', async () => {
    const child = spawnServer({ PORT: '0', DATA_DIR: tempDir() }, { database: 'embedded' });
    const url = await waitForListening(child);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const page = await (await fetch(`${url}/`)).text();
    expect(page).toContain('<html lang="vi">');
    const exited = waitForExit(child);
    child.kill('SIGTERM');
    const { code } = await exited;
    expect(code).toBe(0);
  });
});
