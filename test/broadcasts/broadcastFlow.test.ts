import fs from 'node:fs';
import path from 'node:path';
import { createBroadcastValidators } from '../../src/broadcasts/BroadcastService';
import { PROJECT_ROOT } from '../../src/config';
import { FlowValidationError } from '../../src/engine/loadFlows';
import { loadDefinitions } from '../../src/runtime';
import { FakeBotApi } from '../support/fakeBotApi';
import { buildEngine, Conversation, startServer, tempDir, testRedisUrl, uniquePrefix } from '../support/harness';
import { groupTextUpdate, newUpdateId, person } from '../support/telegramUpdates';

const base = { localityFile: path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), localesDir: path.join(PROJECT_ROOT, 'locales'), flowsDir: path.join(PROJECT_ROOT, 'flows') };

describe('the announcement flow (flows/broadcast.json) is for officials only', () => {
  const { engine, flows, locality, words } = buildEngine();

  it('is not among the citizens\' flows: no link opens it', async () => {
    expect(flows.byId.has('broadcast')).toBe(false);
    const c = new Conversation(engine, 'telegram', 'citizen-bc-1');
    await c.onboard();
    await c.start('broadcast');
    expect(c.session?.flow).not.toBe('broadcast');
    await c.start('broadcast__confirm');
    expect(c.session?.flow).not.toBe('broadcast');
  });

  it('refuses at start-up a citizens\' flow that leads to it', () => {
    const flowsDir = tempDir();
    for (const f of fs.readdirSync(base.flowsDir)) fs.copyFileSync(path.join(base.flowsDir, f), path.join(flowsDir, f));
    fs.writeFileSync(path.join(flowsDir, 'help.json'), JSON.stringify({ id: 'help', version: 1, title: 'help.title', start: 'go', steps: { go: { type: 'goto', flow: 'broadcast' } } }));
    let problems: string[] = [];
    try {
      loadDefinitions({ ...base, flowsDir });
    } catch (err) {
      if (!(err instanceof FlowValidationError)) throw err;
      problems = err.problems;
    }
    expect(problems).toEqual([expect.stringContaining("help.json: steps.go.flow: flow 'broadcast' is for officials, this one for citizens")]);
  });

  it('reads communes, "all" and skip words from the words files', () => {
    const check = createBroadcastValidators(locality, words);
    const now = { locale: 'vi', now: 0 };
    expect(check.broadcastCommunes('Tất cả', now)).toEqual({ ok: true, value: null });
    expect(check.broadcastCommunes('ban pho, coc ly; Bản Phố', now)).toEqual({ ok: true, value: ['ban-pho', 'coc-ly'] });
    expect(check.broadcastCommunes('ban pho, atlantis', now)).toEqual({ ok: false, error: 'broadcast.unknownCommune' });
    expect(check.announcementTranslation('bỏ qua', now)).toEqual({ ok: true, value: null });
    expect(check.announcementTranslation('skip', now)).toEqual({ ok: true, value: null });
    expect(check.announcementTranslation('Hi', now)).toMatchObject({ ok: false, error: 'broadcast.textLength' });
    expect(check.announcementText('Họp dân lúc 8 giờ.', now)).toEqual({ ok: true, value: 'Họp dân lúc 8 giờ.' });
  });
});

describe('/thongbao in a group runs on the group chat\'s session', () => {
  const TOKEN = '123456789:AAF1x-thongbao-flow-token-abcdefghi';
  const SECRET = 'thongbao_flow_secret';
  const GROUP = -1001000000202;
  const AUTHOR = 6201;
  let bot: FakeBotApi;
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    bot = await FakeBotApi.start(TOKEN);
    server = await startServer({
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: bot.url,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      PUBLIC_URL: 'https://bot.bacha.example.gov.vn',
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix(),
      OFFICIALS_TELEGRAM_CHAT_ID: String(GROUP),
    });
  });
  afterAll(async () => {
    await server.close();
    await bot.close();
  });

  const say = async (text: string) => {
    const update = groupTextUpdate(GROUP, AUTHOR, text, newUpdateId(), person(AUTHOR, 'Lù Văn', 'Tỉnh'));
    const res = await fetch(`${server.url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
    expect(res.status).toBe(200);
  };
  const texts = () => bot.callsOf('sendMessage', GROUP).map((c) => String(c.payload.text));

  it('keeps the paragraphs of the announcement, takes navigation words as its text, sends only on a tap, and drops the draft on a cancel word', async () => {
    await say('/thongbao');
    await say('tat ca');
    await say('2');
    // "quay lại" is what the official writes here, not a command of citizens' conversations.
    await say('quay lại');
    await bot.waitFor(() => texts().some((t) => t.includes('Gõ bản tiếng Anh')));
    await say('/thongbao');
    await say('tat ca');
    await say('1');
    await say('Dòng một của thông báo.\nDòng hai của thông báo.');
    await say('bo qua');
    await bot.waitFor(() => texts().some((t) => t.includes('Xem trước')));
    const preview = texts().find((t) => t.includes('Xem trước'))!;
    expect(preview).toContain('Dòng một của thông báo.\nDòng hai của thông báo.');
    // Only a tap on "Gửi" sends: the preview lists no numbers, and a typed answer is told to use the buttons.
    expect(preview).not.toMatch(/\n1\. /);
    await say('1');
    await bot.waitFor(() => texts().some((t) => t.includes('Bấm “Gửi” để gửi')));
    await say('huỷ');
    await bot.waitFor(() => texts().some((t) => t.includes('Đã huỷ thông báo đang soạn')));
    expect((await server.runtime.store.peek(`telegram-group:${GROUP}`))?.flow).toBeNull();
    expect(Number((await server.runtime.db.query<{ n: string }>('SELECT count(*) AS n FROM broadcasts'))[0]!.n)).toBe(0);
  });
});
