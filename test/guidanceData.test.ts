import fs from 'node:fs';
import path from 'node:path';
import { ServiceSearch } from '../src/actions/serviceSearch';
import { MemoryCampaignStore } from '../src/campaign/CampaignStore';
import { PROJECT_ROOT } from '../src/config';
import { withinOneEdit } from '../src/engine/fuzzy';
import { IntentFileError, loadIntentLexicon } from '../src/engine/intents';
import { distanceKm } from '../src/locality/geo';
import { loadLocality, LocalityFileError } from '../src/locality/localitySchema';
import { tempDir } from './support/harness';

const BAC_HA = path.join(PROJECT_ROOT, 'localities', 'bac-ha.json');
const locality = loadLocality(BAC_HA);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a raw JSON document, edited freely to break it
function problemsWith(edit: (loc: any) => void): string[] {
  const loc = JSON.parse(fs.readFileSync(BAC_HA, 'utf8'));
  edit(loc);
  const file = path.join(tempDir(), 'loc.json');
  fs.writeFileSync(file, JSON.stringify(loc));
  try {
    loadLocality(file);
  } catch (err) {
    if (err instanceof LocalityFileError) return err.problems;
    throw err;
  }
  throw new Error('expected the locality file to be refused');
}

describe('the Bắc Hà locality file', () => {
  it('carries the tracing app, QR guidance, a catalogue of at least 25 procedures, and the epidemic lists', () => {
    expect(locality.tracingApp.name).toBe('Bluezone');
    expect(locality.tracingApp.lookalikes).toEqual(['Bluzone', 'Bluezone Ads', 'Bluezone Pool']);
    expect(locality.qrCheckin.scannerApps.length).toBeGreaterThan(0);
    const { procedures, categories, portals } = locality.publicServices;
    expect(procedures.length).toBeGreaterThanOrEqual(25);
    for (const p of procedures) {
      expect(p.documents.vi.length).toBeGreaterThan(0);
      expect(p.documents.en).toHaveLength(p.documents.vi.length);
    }
    expect(new Set(procedures.map((p) => p.category))).toEqual(new Set(categories.map((c) => c.id)));
    expect(portals.map((p) => p.url)).toContain('https://dichvucong.gov.vn');
    for (const list of ['checkpoints', 'isolationAreas', 'lockdownAreas'] as const) expect(Array.isArray(locality.epidemic[list])).toBe(true);
  });

  it('invents no facts: unsourced phones, addresses, positions and store links are null', () => {
    for (const c of locality.communes) {
      expect(c.healthStation.phone).toBeNull();
      expect(c.healthStation.location).toBeNull();
      expect(c.helpContact).toBeNull();
    }
    expect(locality.tracingApp.android.link).toBeNull();
    expect(locality.tracingApp.storePublisher).toBeNull();
    expect(locality.epidemic.provincialMapLink).toBe('http://covidmap.laocai.gov.vn/');
  });

  it('names the path of a procedure that points at an unknown category or portal, and of an area in an unknown commune', () => {
    const problems = problemsWith((loc) => {
      loc.publicServices.procedures[0].category = 'nope';
      loc.publicServices.procedures[1].portal = 'elsewhere';
      loc.epidemic.checkpoints = [{ id: 'x', name: 'X', commune: 'atlantis', description: null, from: '2021-07-01', until: '2021-06-01', checkedOn: '2021-07-01' }];
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^publicServices\.procedures\.0\.category: unknown category 'nope'/),
        expect.stringMatching(/^publicServices\.procedures\.1\.portal: unknown portal 'elsewhere'/),
        "epidemic.checkpoints.0.commune: unknown commune id 'atlantis'",
        "epidemic.checkpoints.0.until: 'until' (2021-06-01) is before 'from' (2021-07-01)",
      ]),
    );
  });

  it('refuses a bad level or link and says what it expects', () => {
    const problems = problemsWith((loc) => {
      loc.publicServices.procedures[0].level = 5;
      loc.tracingApp.installLink = 'go.zalo.me/bluezone';
    });
    expect(problems.some((p) => p.startsWith('publicServices.procedures.0.level'))).toBe(true);
    expect(problems).toContain('tracingApp.installLink: expected a link starting with http:// or https://');
  });
});

describe('searching the public-service catalogue', () => {
  const search = new ServiceSearch(locality.publicServices);
  const top = (q: string) => search.search(q)[0]?.procedure.id;

  it.each([
    ['Đăng ký khai sinh', 'khai-sinh'],
    ['dang ky khai sinh', 'khai-sinh'],
    ['KHAI SINH', 'khai-sinh'],
    ['khaisinh', 'khai-sinh'],
    ['ket hon', 'ket-hon'],
    ['kết hôn', 'ket-hon'],
    ['khai tu', 'khai-tu'],
    ['chung thuc ban sao', 'chung-thuc-ban-sao'],
    ['cong chung', 'chung-thuc-ban-sao'],
    ['xac nhan doc than', 'tinh-trang-hon-nhan'],
    ['ho kinh doanh', 'ho-kinh-doanh'],
    ['giay phep xay dung', 'giay-phep-xay-dung'],
    ['so do', 'so-do-lan-dau'],
    ['tam tru', 'tam-tru'],
    ['marriage', 'ket-hon'],
    ['birth certificate', 'khai-sinh'],
  ])('"%s" puts %s first', (query, id) => {
    expect(top(query)).toBe(id);
  });

  it('tolerates one typo in longer words', () => {
    expect(top('thuong tru')).toBe('thuong-tru');
    expect(top('thuogn tru')).toBe('thuong-tru');
    expect(top('marrige')).toBe('ket-hon');
    expect(top('certifcate')).toBeDefined();
  });

  it('returns nothing rather than something unrelated (a minimum relevance)', () => {
    const ids = (q: string) => search.search(q).map((h) => h.procedure.id);
    expect(ids('giay phep lai xe')).not.toContain('khai-sinh');
    expect(ids('giay phep lai xe').some((id) => id.includes('ruou'))).toBe(false);
    expect(ids('lam can cuoc cong dan')).not.toContain('chung-thuc-ban-sao');
    // Typos are still tolerated.
    expect(top('dang ky khai snh')).toBe('khai-sinh');
  });

  it('finds nothing for nothing, filler words, or gibberish', () => {
    expect(search.search('')).toEqual([]);
    expect(search.search('toi muon lam thu tuc')).toEqual([]);
    expect(search.search('xyzw qwerty')).toEqual([]);
  });

  it('ranks, and returns at most 8', () => {
    const hits = search.search('dang ky giay to ho tich khai sinh ket hon khai tu');
    expect(hits.length).toBeLessThanOrEqual(8);
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
  });
});

describe('texts', () => {
  it('every text file has the same keys in Vietnamese and English', () => {
    const dir = path.join(PROJECT_ROOT, 'locales');
    const keys = (locale: string, file: string) => Object.keys(JSON.parse(fs.readFileSync(path.join(dir, locale, file), 'utf8'))).sort();
    const files = fs.readdirSync(path.join(dir, 'vi')).filter((f) => f.endsWith('.json') && f !== 'intents.json');
    expect(fs.readdirSync(path.join(dir, 'en')).filter((f) => f.endsWith('.json')).sort()).toEqual(fs.readdirSync(path.join(dir, 'vi')).filter((f) => f.endsWith('.json')).sort());
    for (const f of files) expect([f, keys('en', f)]).toEqual([f, keys('vi', f)]);
  });
});

describe('small helpers', () => {
  it('one edit: replace, insert, delete, swap; not two', () => {
    expect(withinOneEdit('bluezone', 'bluzone')).toBe(true);
    expect(withinOneEdit('bluezone', 'bluezome')).toBe(true);
    expect(withinOneEdit('bluezone', 'bluezonee')).toBe(true);
    expect(withinOneEdit('thuong', 'thuogn')).toBe(true);
    expect(withinOneEdit('bluezone', 'blezome')).toBe(false);
  });

  it('distances between places in km', () => {
    const d = distanceKm({ latitude: 22.5, longitude: 104.25 }, { latitude: 21.0285, longitude: 105.8542 });
    expect(d).toBeGreaterThan(230);
    expect(d).toBeLessThan(245);
  });

  it('the in-memory campaign store counts each person once, in the commune of the latest confirmation', async () => {
    const store = new MemoryCampaignStore();
    const at = 0;
    expect(await store.recordInstall({ channel: 'web', userId: 'a', commune: 'ban-pho', eventId: 'e1', at })).toEqual({ firstTime: true });
    expect(await store.recordInstall({ channel: 'web', userId: 'a', commune: 'ban-pho', eventId: 'e2', at })).toEqual({ firstTime: false });
    await store.recordInstall({ channel: 'zalo', userId: 'a', commune: 'ban-pho', eventId: 'e3', at });
    await store.recordInstall({ channel: 'web', userId: 'b', commune: 'coc-ly', eventId: 'e4', at });
    await store.recordInstall({ channel: 'web', userId: 'b', commune: 'na-hoi', eventId: 'e5', at });
    expect(await store.countInstalls()).toEqual({ 'ban-pho': 2, 'na-hoi': 1 });
    await store.forget('web', 'a');
    await store.forget('web', 'nobody');
    expect(await store.countInstalls()).toEqual({ 'ban-pho': 2, 'na-hoi': 1 });
    expect(await store.recordInstall({ channel: 'web', userId: 'b', commune: 'na-hoi', eventId: 'e6', at })).toEqual({ firstTime: false });
  });

  it('an intents file naming an unknown flow stops start-up, naming the file and entry', () => {
    const dir = tempDir();
    for (const l of ['vi', 'en']) {
      fs.mkdirSync(path.join(dir, l));
      fs.writeFileSync(path.join(dir, l, 'intents.json'), JSON.stringify({ abbreviations: {}, greetings: [], flows: { bluezon: ['x'] } }));
    }
    expect(() => loadIntentLexicon(dir, ['bluezone', 'menu'], dir)).toThrow(IntentFileError);
    expect(() => loadIntentLexicon(dir, ['bluezone', 'menu'], dir)).toThrow("vi/intents.json: flows.bluezon: unknown flow 'bluezon' (flows are: bluezone, menu)");
    fs.writeFileSync(path.join(dir, 'en', 'intents.json'), JSON.stringify({ abbreviations: {}, greetings: [], flows: { bluezone__nope: ['x'] } }));
    expect(() => loadIntentLexicon(dir, ['bluezone', 'bluezone__phone'], dir)).toThrow("en/intents.json: flows.bluezone__nope: flow 'bluezone' has no entry step 'nope'");
  });
});
