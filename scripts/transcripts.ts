/**
 * `npm run transcripts`: one full run of each flow through the real engine (real flows, texts, locality file, records
 * database in memory), in Vietnamese and in English, written as plain text to docs/transcripts/<lang>/ so that anyone
 * can read the whole bot in ten minutes. Nothing is sent anywhere; the data folder is a temporary one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config';
import { replyAsText } from '../src/engine/contracts';
import type { InboundEvent, Session } from '../src/engine/types';
import { createLogger } from '../src/logger';
import { createRuntime } from '../src/runtime';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A person's message: typed text, or a deep link / QR code that opens a flow. */
type Step = string | { start: string };

interface Journey {
  name: string;
  /** What the person does after onboarding; texts that differ by language are given as [vi, en]. */
  steps: Array<Step | [string, string]>;
}

const JOURNEYS: Journey[] = [
  { name: 'declaration-national', steps: [{ start: 'declaration' }, '1'] },
  {
    name: 'declaration-commune-station',
    steps: [{ start: 'declaration' }, '2', '1', 'Giàng Thị Mai', '1985', '2', '0912 345 678', '1', ['Thôn Na Lang', 'Na Lang village'], '1 2', '4', '3', '3', '5', '1', '1'],
  },
  { name: 'symptoms-danger-sign', steps: [{ start: 'symptoms' }, '1', '1', '1', '0912 345 678', '1', ['Thôn Na Lang', 'Na Lang village'], '1'] },
  { name: 'symptoms-none', steps: [{ start: 'symptoms' }, '7'] },
  { name: 'report', steps: [{ start: 'report' }, '1', ['Thôn Sín Chải, nhà ông A', 'Sín Chải village, Mr A’s house'], '1', '1', ['2 người từ Trung Quốc về', '2 people came back from China'], '1', 'có', '1'] },
  { name: 'bluezone', steps: [{ start: 'bluezone' }, '1', '5', '1', '3', '2'] },
  { name: 'qr', steps: [{ start: 'qr' }, '1', '5', '6'] },
  { name: 'epidemic', steps: [{ start: 'epidemic' }, '1', '2', '3', '5', '7'] },
  { name: 'services', steps: [{ start: 'services' }, '1', ['khai sinh', 'birth certificate'], '1', '1', '4'] },
  { name: 'services-not-found', steps: [{ start: 'services' }, '1', ['giay phep lai xe', 'driving licence']] },
  { name: 'contacts', steps: [{ start: 'contacts' }] },
  { name: 'myreports', steps: [{ start: 'declaration' }, '2', '1', 'Giàng Thị Mai', '1985', '2', '0912 345 678', '1', 'Na Lang', '7', '3', '3', '5', '1', '1', { start: 'myreports' }] },
  { name: 'subscriptions', steps: [{ start: 'subscriptions' }] },
  { name: 'daily-update', steps: [{ start: 'daily' }] },
  { name: 'commune', steps: [{ start: 'commune' }, 'coc ly'] },
  { name: 'help', steps: [{ start: 'help' }] },
  { name: 'deletedata', steps: [{ start: 'deletedata' }, '2'] },
  { name: 'typed-danger-sign', steps: [['bố tôi khó thở, môi tím', 'my father cannot breathe, his lips are blue']] },
  { name: 'typed-tokhaiyte', steps: ['tokhaiyte'] },
];

const LABELS = { vi: { person: 'Người dân', bot: 'Trợ lý' }, en: { person: 'Person', bot: 'Assistant' } } as const;

async function main(): Promise<void> {
  const outDir = path.join(PROJECT_ROOT, 'docs', 'transcripts');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cgb-transcripts-'));
  const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', DATA_DIR: dataDir, PORT: '0' });
  const runtime = await createRuntime(config, createLogger('silent'), { inMemoryDatabase: true, backgroundJobs: false });
  let eventNo = 0;
  // 15 July 2021, 09:00 in Bắc Hà: the plan's time.
  let now = Date.UTC(2021, 6, 15, 2, 0, 0);
  try {
    for (const locale of ['vi', 'en'] as const) {
      fs.mkdirSync(path.join(outDir, locale), { recursive: true });
      for (const [index, journey] of JOURNEYS.entries()) {
        let session: Session | null = null;
        const userId = `transcript-${locale}-${journey.name}`;
        const lines: string[] = [];
        const send = async (e: DistributiveOmit<InboundEvent, 'channel' | 'userId' | 'eventId'>, shown: string | null) => {
          now += 20_000;
          const event = { ...e, channel: 'web', userId, eventId: `tr${++eventNo}` } as InboundEvent;
          const result = await runtime.engine.handle(session, event, now);
          session = result.session;
          if (shown !== null) lines.push(`${LABELS[locale].person}: ${shown}`);
          for (const r of result.replies) lines.push(`${LABELS[locale].bot}: ${replyAsText(r).replace(/\n/g, '\n    ')}`);
          lines.push('');
        };
        // Onboarding: language, commune (announcements are offered only where they can arrive).
        await send({ kind: 'start' }, locale === 'vi' ? '(mở trò chuyện)' : '(opens the chat)');
        await send({ kind: 'text', text: locale === 'vi' ? '1' : '2' }, locale === 'vi' ? '1' : '2');
        await send({ kind: 'text', text: 'ban pho' }, 'ban pho');
        for (const step of journey.steps) {
          if (typeof step === 'object' && !Array.isArray(step)) {
            await send({ kind: 'start', payload: step.start }, locale === 'vi' ? `(mở liên kết ?start=${step.start})` : `(opens the link ?start=${step.start})`);
            continue;
          }
          const text = Array.isArray(step) ? step[locale === 'vi' ? 0 : 1] : step;
          await send({ kind: 'text', text }, text);
        }
        const file = path.join(outDir, locale, `${String(index + 1).padStart(2, '0')}-${journey.name}.txt`);
        fs.writeFileSync(file, `${lines.join('\n').trimEnd()}\n`);
      }
    }
    console.log(`transcripts: ${JOURNEYS.length} journeys × 2 languages written to ${path.relative(PROJECT_ROOT, outDir)}/`);
  } finally {
    await runtime.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
