import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { startServer, tempDir, WebUser } from './support/harness';

/**
 * A third language is one folder: a copy of the locales with a pseudo-locale `xx` (every English text marked
 * `[xx]`, its own name "Pseudo" for the language menu) is offered, chosen, and carries whole flows, with nothing
 * else changed.
 */
function localesWithPseudo(): string {
  const dir = tempDir('cgb-pseudo-locales-');
  fs.cpSync(path.join(PROJECT_ROOT, 'locales'), dir, { recursive: true });
  const en = path.join(dir, 'en');
  const xx = path.join(dir, 'xx');
  fs.mkdirSync(xx);
  const mark = (v: unknown): unknown =>
    typeof v === 'string' ? `[xx] ${v}` : Array.isArray(v) ? v.map(mark) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mark(x)])) : v;
  for (const file of fs.readdirSync(en)) {
    const data = JSON.parse(fs.readFileSync(path.join(en, file), 'utf8')) as Record<string, unknown>;
    // Words people type (intents) stay as they are; texts people read are marked.
    const out = file === 'intents.json' || file === 'words.json' || file === 'intent-examples.json' ? data : (mark(data) as Record<string, unknown>);
    if (file === 'language.json') Object.assign(out, { self: 'Pseudo', selfSynonyms: 'pseudo' });
    fs.writeFileSync(path.join(xx, file), JSON.stringify(out));
  }
  return dir;
}

describe('a third language by adding one folder', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer({ LOCALES_DIR: localesWithPseudo() });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is offered in the language menu, and onboarding and a guidance flow run in it', async () => {
    const u = new WebUser(server.url);
    const welcome = await u.start();
    expect(welcome).toContain('1. Tiếng Việt');
    expect(welcome).toContain('2. English');
    expect(welcome).toContain('3. Pseudo');
    const commune = await u.say('3');
    expect(commune).toContain('[xx] Which commune');
    const menu = await u.say('nam khanh');
    expect(menu).toContain('Saved: Xã Nậm Khánh');
    expect(menu).toContain('[xx] What do you need?');
    const more = /(\d+)\. \[xx\] More\.\.\./.exec(menu)?.[1];
    expect(more).toBeDefined();
    const second = await u.say(more!);
    const number = /(\d+)\. \[xx\] Important phone numbers/.exec(second)?.[1];
    expect(number).toBeDefined();
    const contacts = await u.say(number!);
    expect(contacts).toContain('1900 9095');
    expect(contacts).toMatch(/\[xx\]/);
    // Every question and answer of the flows came from the folder: no Vietnamese text slipped through.
    expect(`${commune}\n${menu}\n${contacts}`).not.toMatch(/Anh\/Chị sống ở|Anh\/Chị cần gì/);
  });

  it('the language menu switches back, and the other languages are unchanged', async () => {
    const u = new WebUser(server.url);
    await u.start();
    await u.say('pseudo');
    await u.say('ban pho');
    const back = await u.say('ngon ngu');
    expect(back).toContain('3. Pseudo');
    expect(await u.say('1')).toContain('Từ giờ trợ lý nói tiếng Việt.');
    const other = new WebUser(server.url);
    await other.start();
    expect(await other.say('2')).toContain('Which commune');
    expect(await other.say('2')).not.toContain('[xx]');
  });
});
