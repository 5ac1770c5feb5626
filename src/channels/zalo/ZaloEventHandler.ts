import type { ZaloConfig } from '../../config';
import type { Translator } from '../../engine/contracts';
import type { InboundEvent } from '../../engine/types';
import { describeError } from '../../errors';
import { sleep } from '../../util/sleep';
import { userTag, type Logger } from '../../logger';
import { acknowledgeAtCommit } from '../../pipeline/acknowledgeAtCommit';
import type { EventPipeline } from '../../pipeline/EventPipeline';
import { userKey } from '../../pipeline/userKey';
import type { PersonalData } from '../../users/PersonalData';
import type { ZaloEventMeaning } from './parseZaloEvent';
import type { ZaloTextKey } from './renderZaloReplies';
import type { ZaloApiClient } from './ZaloApiClient';
import { sentMessageMark, type ZaloCoordination } from './ZaloCoordination';
import type { ZaloSender } from './ZaloSender';

/** How long an echo waits for this bot's in-flight sends to learn their message ids. */
const ECHO_WAIT_MS = 10_000;
/** How long a webhook may wait for the user detail (shared phone) before answering without it. */
const USER_DETAIL_WAIT_MS = 1_000;

export interface ZaloEventHandlerDeps {
  pipeline: EventPipeline;
  sender: ZaloSender;
  coordination: ZaloCoordination;
  /** For the phone in a profile's shared info. */
  client: Pick<ZaloApiClient, 'getUserDetail'>;
  personalData: PersonalData;
  i18n: Translator;
  cfg: Pick<ZaloConfig, 'handoverQuietMs'>;
  log: Logger;
}

/**
 * Runs one parsed Zalo event through the update pipeline (the counterpart of `TelegramUpdateHandler`).
 *
 * `handle` resolves once the event is committed (its replies follow, inside the person's lease, so that they keep
 * their order), or found to be a duplicate, or ignored; it rejects when the event could not be committed, so that
 * the webhook answers 5xx and Zalo redelivers. Zalo wants its answer within 2 s: nothing waits for the replies.
 */
export class ZaloEventHandler {
  /** Echo checks still running (they may wait for our own sends); `idle` waits for them at shutdown. */
  private readonly background = new Set<Promise<unknown>>();

  constructor(private readonly deps: ZaloEventHandlerDeps) {}

  async handle(meaning: ZaloEventMeaning): Promise<void> {
    const { sender, coordination, log, pipeline } = this.deps;
    switch (meaning.kind) {
      case 'citizen':
      case 'unreadable':
      case 'info-without-phone': {
        const userId = meaning.kind === 'citizen' ? meaning.event.userId : meaning.userId;
        const eventId = meaning.kind === 'citizen' ? meaning.event.eventId : meaning.eventId;
        // Writing to the OA opens the 7-day window again (and a follow makes them a follower).
        await sender.markBack(userId);
        if (await coordination.isPaused(userId)) {
          log.info({ channel: 'zalo', eventId, user: userTag(userKey({ channel: 'zalo', userId })) }, 'zalo: event left to the OA admin who is talking to this person');
          return;
        }
        if (meaning.kind === 'citizen') return this.runEvent(meaning.event);
        if (meaning.kind === 'unreadable') return this.runHint(userId, eventId, 'zalo.unreadable');
        // Shared info without a phone: the phone may still be in the profile's shared info.
        const phone = await this.sharedPhone(userId, eventId);
        if (phone) return this.runEvent({ channel: 'zalo', userId, eventId, kind: 'contact', phone });
        return this.runHint(userId, eventId, 'zalo.infoWithoutPhone');
      }
      case 'unfollow':
        await pipeline.handleEffect({ channel: 'zalo', userId: meaning.userId, eventId: meaning.eventId, kind: 'unfollow' }, () => sender.markGone(meaning.userId, 'unfollowed the OA'));
        return;
      case 'withdraw': {
        const outcome = await pipeline.handleEffect(
          { channel: 'zalo', userId: meaning.userId, eventId: meaning.eventId, kind: 'withdraw' },
          () => this.deps.personalData.eraseUser('zalo', meaning.userId),
          { forgetSession: true },
        );
        if (outcome === 'handled') log.info({ channel: 'zalo', user: userTag(userKey({ channel: 'zalo', userId: meaning.userId })) }, "zalo: the person's data was deleted (user_withdraw)");
        return;
      }
      case 'oa-echo':
        this.track(this.checkEcho(meaning.userId, meaning.messageId, meaning.text).catch((err: unknown) => log.warn({ channel: 'zalo', err: describeError(err) }, 'zalo: could not check an OA echo')));
        return;
      case 'ignored':
        return;
      default: {
        const unreachable: never = meaning;
        throw new Error(`ZaloEventHandler: unknown meaning ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Work that must finish before the channel closes (echo checks, the channel's token renewal). */
  track(p: Promise<unknown>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** Resolves when the echo checks (and tracked work) have finished. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private untilCommitted(eventId: string, run: (committed: () => void) => Promise<unknown>): Promise<void> {
    return acknowledgeAtCommit(run, 0, (err) => this.deps.log.error({ channel: 'zalo', eventId, err: describeError(err) }, 'zalo: event committed, but handling it afterwards failed'));
  }

  /** An event for the conversation: resolves at the commit; the replies follow inside the person's lease. */
  private runEvent(event: InboundEvent): Promise<void> {
    return this.untilCommitted(event.eventId, (committed) =>
      this.deps.pipeline.handle(event, async (replies, session) => {
        committed();
        await this.deps.sender.reply(event.userId, replies, this.deps.sender.localeOf(session));
      }),
    );
  }

  /** A hint ("please type or choose a number") and the current question again, without moving the conversation. */
  private runHint(userId: string, eventId: string, key: ZaloTextKey): Promise<void> {
    const { sender, i18n } = this.deps;
    return this.untilCommitted(eventId, (committed) =>
      this.deps.pipeline.handleHint(
        { channel: 'zalo', userId, eventId },
        (session) => ({ kind: 'text', text: i18n.t(sender.localeOf(session), key) }),
        async (replies, session) => {
          committed();
          await sender.reply(userId, replies, sender.localeOf(session));
        },
      ),
    );
  }

  /** The phone of the profile's shared info; bounded, so that Zalo still gets its answer within 2 s. */
  private sharedPhone(userId: string, eventId: string): Promise<string | null> {
    return Promise.race([
      this.deps.client.getUserDetail(userId).then(
        (d) => d.shared_info?.phone?.trim() || null,
        (err: unknown) => {
          this.deps.log.warn({ channel: 'zalo', eventId, err: describeError(err) }, 'zalo: could not read the shared info of the user detail');
          return null;
        },
      ),
      sleep(USER_DETAIL_WAIT_MS).then(() => null),
    ]);
  }

  /** An OA → user echo that is not one of this bot's messages is an OA admin typing by hand: the bot steps back. */
  private async checkEcho(userId: string, messageId: string | null, text: string | null): Promise<void> {
    const { coordination, cfg, log } = this.deps;
    if (cfg.handoverQuietMs === 0) return;
    const ours = async () =>
      (messageId !== null && (await coordination.wasSentByBot(messageId))) || (text !== null && (await coordination.wasSentByBot(sentMessageMark(userId, text))));
    if (await ours()) return;
    // The echo may overtake the answer to our own send: wait until our sends to this person have finished.
    const deadline = Date.now() + ECHO_WAIT_MS;
    while ((await coordination.isSending(userId)) && Date.now() < deadline) await sleep(50);
    if (await ours()) return;
    await coordination.pause(userId, cfg.handoverQuietMs);
    log.info({ channel: 'zalo', user: userTag(userKey({ channel: 'zalo', userId })), quietMinutes: cfg.handoverQuietMs / 60_000 }, 'zalo: an OA admin wrote to this person by hand; the bot stays quiet for them');
  }
}
