import type { Engine } from '../engine/interpreter';
import type { InboundEvent, Reply, Session } from '../engine/types';
import { userTag, type Logger } from '../logger';
import { userKey } from './userKey';
import { describeError } from '../errors';
import type { SessionStore } from '../sessions/SessionStore';

export type Deliver = (replies: Reply[], session: Session) => Promise<void>;

export type PipelineOutcome =
  | { status: 'duplicate'; session: Session | null }
  | { status: 'handled'; session: Session; replies: Reply[] };

/**
 * Steps 4–7 of the update pipeline, shared by every channel: de-duplicate on the event id, serialize per user
 * across processes, load the session, run the engine (and its actions), commit, then deliver the replies while the
 * user's lease is still held so that their order is kept. A failure before the commit propagates: the channel
 * answers 5xx and the platform redelivers.
 */
export class EventPipeline {
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly engine: Engine,
    private readonly store: SessionStore,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async handle(event: InboundEvent, deliver?: Deliver): Promise<PipelineOutcome> {
    this.inFlight++;
    const started = process.hrtime.bigint();
    const key = userKey(event);
    try {
      const result = await this.store.runExclusive(
        key,
        event.eventId,
        async (stored) => {
          const { session, replies } = await this.engine.handle(stored, event, this.clock());
          return { session, value: replies };
        },
        deliver
          ? async (replies, session) => {
              try {
                await deliver(replies, session);
              } catch (err) {
                // The event is committed; a redelivery would be a duplicate. The channel retries its own sends.
                this.log.error({ channel: event.channel, eventId: event.eventId, user: userTag(key), err: describeError(err) }, 'replies could not be delivered');
              }
            }
          : undefined,
      );
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status === 'duplicate') {
        this.log.info({ channel: event.channel, eventId: event.eventId, user: userTag(key), kind: event.kind }, 'duplicate event ignored');
        return { status: 'duplicate', session: result.session };
      }
      // The user tag is a hash: not computed for a line nobody reads.
      if (this.log.isLevelEnabled('debug')) this.log.debug({ channel: event.channel, eventId: event.eventId, user: userTag(key), kind: event.kind, flow: result.session.flow, step: result.session.step, ms }, 'event handled');
      return { status: 'handled', session: result.session, replies: result.value };
    } finally {
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
