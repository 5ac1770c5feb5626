import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import type { InboundEvent } from '../../src/engine/types';
import type { Runtime } from '../../src/runtime';
import { show, tempDir } from './harness';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The bundled Bắc Hà file with some communes given an officials' group of their own. */
export function localityWithGroups(groups: Record<string, string>): string {
  const locality = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), 'utf8'));
  for (const c of locality.communes) if (groups[c.id]) c.officialsTelegramChatId = groups[c.id];
  const file = path.join(tempDir('cgb-locality-'), 'locality.json');
  fs.writeFileSync(file, JSON.stringify(locality));
  return file;
}

let seq = 0;

/** A citizen talking to a running server through its update pipeline (the same path every channel takes). */
export class PipelineCitizen {
  constructor(
    private readonly runtime: Runtime,
    readonly userId: string,
    readonly channel: InboundEvent['channel'] = 'telegram',
  ) {}

  async send(e: DistributiveOmit<InboundEvent, 'channel' | 'userId' | 'eventId'>): Promise<string> {
    const outcome = await this.runtime.pipeline.handle({ ...e, channel: this.channel, userId: this.userId, eventId: `pc-${++seq}` } as InboundEvent);
    return outcome.status === 'handled' ? show(outcome.replies) : '';
  }

  say(text: string) {
    return this.send({ kind: 'text', text });
  }

  start(payload?: string) {
    return this.send({ kind: 'start', ...(payload ? { payload } : {}) });
  }

  /** Language, commune Bản Phố, no announcements (on a channel that can push). */
  async onboard(commune = 'ban pho'): Promise<void> {
    await this.start();
    await this.say('1');
    const next = await this.say(commune);
    if (next.includes('thông báo')) await this.say('2');
  }

  /** A quick symptom report (fever, no danger sign) in the person's own commune; returns its reference. */
  async reportSymptoms(): Promise<string> {
    await this.start('symptoms');
    await this.say('1');
    await this.say('4');
    await this.say('0912345678');
    await this.say('1');
    await this.say('Thôn Na Lang');
    return referenceIn(await this.say('1'));
  }

  /** A report of a person who came back, in the own commune, with a photo; anonymous or not. */
  async reportEntrant(options: { anonymous: boolean; photo?: string }): Promise<string> {
    await this.start('report');
    await this.say('1');
    await this.say('Thôn Sín Chải');
    await this.say('bo qua');
    await this.say('1');
    await this.say('2 người từ vùng dịch về');
    if (options.photo) await this.send({ kind: 'photo', fileRef: options.photo });
    else await this.say('bo qua');
    if (options.anonymous) await this.say('1');
    else {
      await this.say('2');
      await this.say('0987654321');
    }
    return referenceIn(await this.say('1'));
  }
}

export function referenceIn(text: string): string {
  const m = /(KB|TC|PA)-\d{6}-\d{4}/.exec(text);
  if (!m) throw new Error(`No reference in: ${text}`);
  return m[0];
}
