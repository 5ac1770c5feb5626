import type { Engine } from '../engine/interpreter';
import { createSession, type ChannelName, type InboundEvent, type Reply, type Session } from '../engine/types';
import { describeError } from '../errors';
import type { GroupEvent, GroupEventResult, GroupEvents } from '../groups/GroupEvents';
import { userTag, type Logger } from '../logger';
import type { SessionStore } from '../sessions/SessionStore';
import { groupKey, userKey } from './userKey';
import { cleanEventStrings } from '../safety/cleanText';

export type Deliver = (replies: Reply[], session: Session) => Promise<void>;

/** Told about every update once it leaves the pipeline (metrics). */
export type PipelineObserver = (event: { channel: ChannelName; kind: string }, outcome: 'handled' | 'duplicate' | 'error', seconds: number) => void;
/**
 * Replies shown before the engine's, decided inside the user's exclusive section (so exactly once per event): the
 * "new announcements" box. It must be idempotent for a redelivered event id.
 */
export type Prelude = (event: InboundEvent, session: Session) => Promise<Reply[]>;

export type PipelineOutcome =
  | { status: 'duplicate'; session: Session | null }
  | { status: 'handled'; session: Session; replies: Reply[] };

export type GroupOutcome = { status: 'duplicate' } | { status: 'handled'; result: GroupEventResult | null };

/** Who an event that is not a message is about, and its id (for de-duplication). */
export interface PersonEvent {
  channel: ChannelName;
  userId: string;
  eventId: string;
}

export interface EventPipelineDeps {
  engine: Engine;
  store: SessionStore;
  log: Logger;
  clock?: () => number;
  /** Handlers of officials' group events; without them, group events are refused as a programming error. */
  groups?: GroupEvents;
  /** Replies before the engine's for a person's message (the announcements box). */
  prelude?: Prelude;
}

/** What `run` needs to know about an event to log it. */
interface EventMeta {
  channel: ChannelName;
  eventId: string;
  kind: string;
}

/**
 * The update pipeline, shared by every channel and every kind of event: de-duplicate on the event id, serialize
 * per user (or per group chat) across processes, load the session, do the work (the engine, a group handler, a
 * hint, an effect such as "unfollowed"), commit, then deliver the replies while the lease is still held so that
 * their order is kept. A failure before the commit propagates: the channel answers 5xx and the platform
 * redelivers. Every entry point counts for graceful drain and logs the same way.
 */
export class EventPipeline {
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  observer: PipelineObserver | null = null;

  private readonly engine: Engine;
  private readonly store: SessionStore;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly groups: GroupEvents | undefined;
  private readonly prelude: Prelude | undefined;

  constructor(deps: EventPipelineDeps) {
    this.engine = deps.engine;
    this.store = deps.store;
    this.log = deps.log;
    this.clock = deps.clock ?? Date.now;
    this.groups = deps.groups;
    this.prelude = deps.prelude;
  }

  /** A person's message, button, location, photo, contact, `/start`, or a reminder: the engine runs it. */
  async handle(raw: InboundEvent, deliver?: Deliver): Promise<PipelineOutcome> {
    const event = cleanEventStrings(raw);
    const result = await this.run(userKey(event), event, async (stored) => {
      const { session, replies } = await this.engine.handle(stored, event, this.clock());
      const before = this.prelude ? await this.prelude(event, session) : [];
      return { session, value: before.length ? [...before, ...replies] : replies };
    }, deliver);
    if (result.status === 'duplicate') return { status: 'duplicate', session: result.session };
    return { status: 'handled', session: result.session, replies: result.value };
  }

  /**
   * Something a person sent that answers nothing (a sticker, shared info without a phone): `hint` and the current
   * question again, without moving the conversation. Someone new is greeted as on `/start`.
   */
  async handleHint(event: PersonEvent, hint: (session: Session) => Reply, deliver?: Deliver): Promise<PipelineOutcome> {
    const result = await this.run(userKey(event), { ...event, kind: 'hint' }, async (stored) => {
      if (!stored) {
        const r = await this.engine.handle(null, { channel: event.channel, userId: event.userId, eventId: event.eventId, kind: 'start' }, this.clock());
        return { session: r.session, value: r.replies };
      }
      return { session: stored, value: [hint(stored), ...this.engine.currentPrompt(stored)] };
    }, deliver);
    if (result.status === 'duplicate') return { status: 'duplicate', session: result.session };
    return { status: 'handled', session: result.session, replies: result.value };
  }

  /**
   * An event about a person that is not a message (unfollowed, withdrew consent): `effect` runs once per event id,
   * inside the person's lease. With `forgetSession`, the stored session is deleted at the commit.
   */
  async handleEffect(event: PersonEvent & { kind: string }, effect: () => Promise<void>, options: { forgetSession?: boolean } = {}): Promise<'handled' | 'duplicate'> {
    const result = await this.run(userKey(event), event, async (stored) => {
      await effect();
      return { session: stored ?? createSession(this.clock()), value: [], forget: options.forgetSession };
    });
    return result.status === 'duplicate' ? 'duplicate' : 'handled';
  }

  /**
   * An event of an officials' group chat (a command, a text, a button of a notice): offered to the group handlers,
   * de-duplicated and serialized per chat. The chat's session holds a flow run in the group (the announcement draft);
   * the handlers keep their other records idempotently by event id.
   */
  async handleGroup(raw: GroupEvent, deliver?: (result: GroupEventResult | null) => Promise<void>): Promise<GroupOutcome> {
    const groups = this.groups;
    if (!groups) throw new Error('EventPipeline: a group event arrived, but no group handlers were given to the pipeline');
    const event = cleanEventStrings(raw);
    const result = await this.run(
      groupKey(event.chatId),
      { channel: event.channel, eventId: event.eventId, kind: `group-${event.kind}` },
      async (stored) => {
        const chat = { session: stored ?? createSession(this.clock()) };
        const value = await groups.handle(event, chat);
        return { session: chat.session, value };
      },
      deliver ? (value) => deliver(value) : undefined,
    );
    return result.status === 'duplicate' ? { status: 'duplicate' } : { status: 'handled', result: result.value };
  }

  private async run<T>(
    key: string,
    meta: EventMeta,
    work: (stored: Session | null) => Promise<{ session: Session; value: T; forget?: boolean }>,
    deliver?: (value: T, session: Session) => Promise<void>,
  ): Promise<{ status: 'duplicate'; session: Session | null } | { status: 'committed'; session: Session; value: T }> {
    this.inFlight++;
    const started = process.hrtime.bigint();
    let outcome: 'handled' | 'duplicate' | 'error' = 'error';
    try {
      const result = await this.store.runExclusive(
        key,
        meta.eventId,
        work,
        deliver
          ? async (value, session) => {
              try {
                await deliver(value, session);
              } catch (err) {
                // The event is committed; a redelivery would be a duplicate. The channel retries its own sends.
                this.log.error({ channel: meta.channel, eventId: meta.eventId, user: userTag(key), err: describeError(err) }, 'replies could not be delivered');
              }
            }
          : undefined,
      );
      outcome = result.status === 'duplicate' ? 'duplicate' : 'handled';
      if (result.status === 'duplicate') {
        this.log.info({ channel: meta.channel, eventId: meta.eventId, user: userTag(key), kind: meta.kind }, 'duplicate event ignored');
        return result;
      }
      // The user tag is a hash: not computed for a line nobody reads.
      if (this.log.isLevelEnabled('debug')) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        this.log.debug({ channel: meta.channel, eventId: meta.eventId, user: userTag(key), kind: meta.kind, flow: result.session.flow, step: result.session.step, ms }, 'event handled');
      }
      return result;
    } finally {
      this.observer?.(meta, outcome, Number(process.hrtime.bigint() - started) / 1e9);
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when no event is being handled (for graceful shutdown). */
  drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
