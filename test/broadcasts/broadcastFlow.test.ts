import fs from 'node:fs';
import path from 'node:path';
import { createBroadcastValidators } from '../../src/broadcasts/BroadcastService';
import { PROJECT_ROOT } from '../../src/config';
import { FlowValidationError } from '../../src/engine/loadFlows';
import { loadDefinitions } from '../../src/runtime';
import { buildEngine, Conversation, tempDir } from '../support/harness';

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
