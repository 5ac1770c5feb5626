import type { Reply, Session } from '../../src/engine/types';
import { GroupEvents, type GroupEvent } from '../../src/groups/GroupEvents';
import { createLogger } from '../../src/logger';
import { EventPipeline } from '../../src/pipeline/EventPipeline';
import { MemorySessionStore } from '../../src/sessions/MemorySessionStore';
import { DEFAULT_STORE_OPTIONS } from '../../src/sessions/SessionStore';
import { buildEngine, show } from '../support/harness';

const { engine } = buildEngine();

function pipelineWith(groups = new GroupEvents()) {
  const store = new MemorySessionStore({ ...DEFAULT_STORE_OPTIONS, sessionTtlSeconds: 600 });
  return { store, pipeline: new EventPipeline({ engine, store, log: createLogger('silent'), groups }) };
}

const groupEvent = (eventId: string, text = '/hello'): GroupEvent => ({ channel: 'telegram', chatId: '-100', fromUserId: '7', fromName: 'Cán bộ', eventId, kind: 'text', text });

describe('EventPipeline', () => {
  it('runs a message through the engine once: a redelivery is a duplicate and delivers nothing', async () => {
    const { pipeline } = pipelineWith();
    const delivered: Reply[][] = [];
    const event = { channel: 'web' as const, userId: 'u1', eventId: 'e1', kind: 'start' as const };
    const first = await pipeline.handle(event, async (replies) => void delivered.push(replies));
    const again = await pipeline.handle(event, async (replies) => void delivered.push(replies));
    expect(first.status).toBe('handled');
    expect(again.status).toBe('duplicate');
    expect(delivered).toHaveLength(1);
    expect(show(delivered[0]!)).toContain('1. Tiếng Việt');
  });

  it('answers a hint with the current question again, and greets someone new', async () => {
    const { pipeline } = pipelineWith();
    const hint = (s: Session): Reply => ({ kind: 'text', text: `hint for ${s.flow}` });
    const greeted = await pipeline.handleHint({ channel: 'zalo', userId: 'u2', eventId: 'h1' }, hint);
    expect(greeted.status === 'handled' && show(greeted.replies)).toContain('1. Tiếng Việt');
    const hinted = await pipeline.handleHint({ channel: 'zalo', userId: 'u2', eventId: 'h2' }, hint);
    expect(hinted.status === 'handled' && show(hinted.replies)).toMatch(/^hint for onboarding\n---\n.*1\. Tiếng Việt/s);
    expect(hinted.status === 'handled' && hinted.session.step).toBe(greeted.status === 'handled' ? greeted.session.step : 'none');
  });

  it('runs an effect once per event id, and drops the session when asked', async () => {
    const { pipeline, store } = pipelineWith();
    await pipeline.handle({ channel: 'zalo', userId: 'u3', eventId: 'm1', kind: 'start' });
    let runs = 0;
    const effect = async () => void runs++;
    expect(await pipeline.handleEffect({ channel: 'zalo', userId: 'u3', eventId: 'w1', kind: 'withdraw' }, effect, { forgetSession: true })).toBe('handled');
    expect(await store.peek('zalo:u3')).toBeNull();
    expect(await pipeline.handleEffect({ channel: 'zalo', userId: 'u3', eventId: 'w1', kind: 'withdraw' }, effect, { forgetSession: true })).toBe('duplicate');
    expect(runs).toBe(1);
  });

  it('offers group events to the group handlers once, serialized per chat', async () => {
    const groups = new GroupEvents();
    const seen: string[] = [];
    groups.register(async (e) => (seen.push(e.eventId), { replies: [{ kind: 'text', text: `ok ${e.eventId}` }] }));
    const { pipeline } = pipelineWith(groups);
    const outcomes = await Promise.all([pipeline.handleGroup(groupEvent('g1')), pipeline.handleGroup(groupEvent('g1')), pipeline.handleGroup(groupEvent('g2'))]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['duplicate', 'handled', 'handled']);
    expect(seen.sort()).toEqual(['g1', 'g2']);
  });

  it('commits nothing when the work fails, so that a redelivery runs it again', async () => {
    const groups = new GroupEvents();
    let fail = true;
    groups.register(async () => {
      if (fail) throw new Error('database down');
      return { replies: [] };
    });
    const { pipeline } = pipelineWith(groups);
    await expect(pipeline.handleGroup(groupEvent('g3'))).rejects.toThrow('database down');
    fail = false;
    expect((await pipeline.handleGroup(groupEvent('g3'))).status).toBe('handled');
  });

  it('drains: waits for a delivery still going on after the commit', async () => {
    const { pipeline } = pipelineWith();
    let finish!: () => void;
    const delivering = new Promise<void>((resolve) => (finish = resolve));
    let committed!: () => void;
    const atCommit = new Promise<void>((resolve) => (committed = resolve));
    const handled = pipeline.handle({ channel: 'web', userId: 'u4', eventId: 'd1', kind: 'start' }, async () => {
      committed();
      await delivering;
    });
    await atCommit;
    let drained = false;
    const drain = pipeline.drain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    finish();
    await Promise.all([handled, drain]);
    expect(drained).toBe(true);
  });

  it('keeps a session untouched by a group event (the chat has its own key)', async () => {
    const { pipeline, store } = pipelineWith();
    expect(await store.peek('telegram:-100')).toBeNull();
    await pipeline.handleGroup(groupEvent('g9'));
    expect(await store.peek('telegram:-100')).toBeNull();
  });
});
