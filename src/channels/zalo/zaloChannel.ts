import path from 'node:path';
import type { ZaloConfig } from '../../config';
import { type InboundEvent, type Locale, type Reply, type Session } from '../../engine/types';
import { LocaleFileError } from '../../i18n';
import { userTag } from '../../logger';
import { RecipientOutsideWindowError, RecipientUnreachableError, type ChannelSender } from '../../outbound/Outbound';
import { describeError, sleep } from '../../errors';
import type { ChannelContext, ChannelPlugin } from '../ChannelPlugin';
import type { ZaloEvent } from './parseZaloEvent';
import { createZaloWebhookRouter, ZALO_WEBHOOK_PATH } from './zaloWebhook';
import { renderZaloReplies, ZALO_TEXT_KEYS, type ZaloOutgoing, type ZaloTextKey } from './renderZaloReplies';
import { ZaloApiClient, ZaloApiError } from './ZaloApiClient';
import { MemoryZaloCoordination, rateShape, RedisZaloCoordination, sentMessageMark, type ZaloCoordination } from './ZaloCoordination';
import { FileTokenStore, ZaloTokenManager, type TokenStore } from './ZaloTokens';
import { acknowledgeAtCommit } from '../../pipeline/acknowledgeAtCommit';
import { userKey } from '../../pipeline/userKey';

/** The token file under DATA_DIR (until the records database keeps tokens). */
export const ZALO_TOKEN_FILE = 'zalo-tokens.json';

/** How often the background check renews a token that is due (keeps the 3-month refresh token alive too). */
const TOKEN_CHECK_EVERY_MS = 10 * 60_000;
/** How long an echo waits for this bot's in-flight sends to learn their message ids. */
const ECHO_WAIT_MS = 10_000;
/** How long a webhook may wait for the user detail (shared phone) before answering without it. */
const USER_DETAIL_WAIT_MS = 1_000;

export interface ZaloChannelOptions {
  /** Where the token pair is kept; default: a file under DATA_DIR. */
  tokenStore?: TokenStore;
  /** Client timings (tests shorten the -32 back-off). */
  backoffMs?: number;
}


/**
 * The Zalo Official Account channel: `POST /webhooks/zalo` (signature, parse, de-duplicate, engine, replies) and a
 * sender for messages outside a webhook (notices, broadcasts).
 *
 * Timing: Zalo wants HTTP 200 within 2 s and redelivers otherwise. The webhook answers as soon as the event is
 * committed (session saved and event id remembered, which takes milliseconds) and sends the replies afterwards,
 * still inside the user's lease so that they keep their order. A failure before the commit answers 5xx, so Zalo
 * redelivers and nothing acknowledged is lost; a redelivery after the commit is recognised by its event id.
 */
export function createZaloChannel(ctx: ChannelContext, options: ZaloChannelOptions = {}): ChannelPlugin {
  const cfg = ctx.config.zalo;
  if (!cfg) throw new Error('createZaloChannel: the Zalo channel is not configured (ZALO_APP_ID and a token)');
  const log = ctx.log;

  const i18n = ctx.i18n;
  for (const locale of i18n.locales) {
    for (const key of ZALO_TEXT_KEYS) {
      if (!i18n.has(locale, key)) throw new LocaleFileError(`${path.join(ctx.config.localesDir, locale, 'zalo.json')}: text key '${key}' of the Zalo channel is missing in locale '${locale}'`);
    }
  }
  const translate = (locale: Locale) => (key: ZaloTextKey) => i18n.t(locale, key);

  const shape = rateShape(cfg.rateLimitPerMinute);
  let coordination: ZaloCoordination;
  if (ctx.redis) {
    coordination = new RedisZaloCoordination(ctx.redis, ctx.config.redisKeyPrefix, shape);
  } else {
    coordination = new MemoryZaloCoordination(shape);
  }

  const tokenStore = options.tokenStore ?? new FileTokenStore(path.join(ctx.config.dataDir, ZALO_TOKEN_FILE));
  const tokens = new ZaloTokenManager({
    oauth: { oauthRoot: cfg.oauthRoot, appId: cfg.appId, appSecret: cfg.appSecret },
    store: tokenStore,
    coordination,
    log,
    initial: { accessToken: cfg.accessToken, refreshToken: cfg.refreshToken },
    refreshAheadMs: cfg.refreshAheadMs,
  });
  const client = new ZaloApiClient({ apiRoot: cfg.apiRoot, tokens, coordination, log, backoffMs: options.backoffMs });
  const messenger = new ZaloMessenger(client, coordination, cfg);

  ctx.personalData.register('zalo-handover', async (channel, userId) => {
    if (channel === 'zalo') await coordination.unpause(userId);
  });

  const localeOf = (session: Session | null): Locale => session?.profile.locale ?? ctx.config.defaultLocale;

  /**
   * Sends replies to a person. -213 (not a follower) marks them unreachable and throws `RecipientUnreachableError`;
   * -230/-232 (no interaction in 7 days) throw `RecipientOutsideWindowError`, not retried.
   */
  async function sendReplies(userId: string, replies: Reply[], locale: Locale): Promise<void> {
    try {
      await messenger.send(userId, renderZaloReplies(replies, translate(locale), ctx.pictures));
    } catch (err) {
      // Outside the 7-day window is not "unreachable": the person is back as soon as they write, and broadcasts
      // count them separately. Not being a follower (unfollowed) is unreachable until they follow again.
      if (err instanceof ZaloApiError && err.isOutsideWindow) throw new RecipientOutsideWindowError('zalo', String(err.code));
      if (err instanceof ZaloApiError && err.isNotFollower) {
        const reason = 'not a follower of the OA (-213)';
        await ctx.reachability.markUnreachable('zalo', userId, reason);
        throw new RecipientUnreachableError('zalo', reason);
      }
      throw err;
    }
  }

  const sender: ChannelSender = {
    channel: 'zalo',
    async send(userId, replies) {
      if (!(await ctx.reachability.isReachable('zalo', userId))) throw new RecipientUnreachableError('zalo', 'marked unreachable (unfollowed the OA) until they follow or write again');
      await sendReplies(userId, replies, localeOf(await ctx.store.peek(userKey({ channel: 'zalo', userId }))));
    },
  };

  let closing = false;
  const background = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    background.add(p);
    void p.finally(() => background.delete(p));
  };

  const ackAtCommit = (eventId: string, run: (committed: () => void) => Promise<unknown>) =>
    acknowledgeAtCommit(run, 0, (err) => log.error({ channel: 'zalo', eventId, err: describeError(err) }, 'zalo: event committed, but handling it afterwards failed'));

  /** Runs an engine event through the pipeline: resolves at the commit; the replies follow inside the user's lease. */
  function runEngineEvent(event: InboundEvent): Promise<void> {
    return ackAtCommit(event.eventId, (committed) =>
      ctx.pipeline.handle(event, async (replies, session) => {
        committed();
        await sendReplies(event.userId, replies, localeOf(session));
      }),
    );
  }

  /** A hint ("please type or choose a number") and the current question again, without moving the conversation. */
  function runHint(userId: string, eventId: string, key: ZaloTextKey): Promise<void> {
    return ackAtCommit(eventId, (committed) =>
      ctx.pipeline.handleHint(
        { channel: 'zalo', userId, eventId },
        (session) => ({ kind: 'text', text: i18n.t(localeOf(session), key) }),
        async (replies, session) => {
          committed();
          await sendReplies(userId, replies, localeOf(session));
        },
      ),
    );
  }

  /** An OA → user echo that is not one of this bot's messages is an OA admin typing by hand: the bot steps back. */
  async function handleEcho(userId: string, messageId: string | null, text: string | null): Promise<void> {
    if (cfg!.handoverQuietMs === 0) return;
    const ours = async () =>
      (messageId !== null && (await coordination.wasSentByBot(messageId))) || (text !== null && (await coordination.wasSentByBot(sentMessageMark(userId, text))));
    if (await ours()) return;
    // The echo may overtake the answer to our own send: wait until our sends to this person have finished.
    const deadline = Date.now() + ECHO_WAIT_MS;
    while ((await coordination.isSending(userId)) && Date.now() < deadline) await sleep(50);
    if (await ours()) return;
    await coordination.pause(userId, cfg!.handoverQuietMs);
    log.info({ channel: 'zalo', user: userTag(userKey({ channel: 'zalo', userId })), quietMinutes: cfg!.handoverQuietMs / 60_000 }, 'zalo: an OA admin wrote to this person by hand; the bot stays quiet for them');
  }

  async function handle(value: ZaloEvent): Promise<void> {
    switch (value.kind) {
      case 'engine':
      case 'unreadable':
      case 'info-without-phone': {
        const userId = value.kind === 'engine' ? value.event.userId : value.userId;
        const eventId = value.kind === 'engine' ? value.event.eventId : value.eventId;
        // Writing to the OA opens the 7-day window again (and a follow makes them a follower).
        await ctx.reachability.markReachable('zalo', userId);
        if (await coordination.isPaused(userId)) {
          log.info({ channel: 'zalo', eventId, user: userTag(userKey({ channel: 'zalo', userId })) }, 'zalo: event left to the OA admin who is talking to this person');
          return;
        }
        if (value.kind === 'engine') return runEngineEvent(value.event);
        if (value.kind === 'unreadable') return runHint(userId, eventId, 'zalo.unreadable');
        // Shared info without a phone: the phone may still be in the profile's shared info.
        // Bounded, so that Zalo still gets its answer within 2 s.
        const phone = await Promise.race([
          client.getUserDetail(userId).then(
            (d) => d.shared_info?.phone?.trim() || null,
            (err: unknown) => {
              log.warn({ channel: 'zalo', eventId, err: describeError(err) }, 'zalo: could not read the shared info of the user detail');
              return null;
            },
          ),
          sleep(USER_DETAIL_WAIT_MS).then(() => null),
        ]);
        if (phone) return runEngineEvent({ channel: 'zalo', userId, eventId, kind: 'contact', phone });
        return runHint(userId, eventId, 'zalo.infoWithoutPhone');
      }
      case 'unfollow':
        await ctx.pipeline.handleEffect({ channel: 'zalo', userId: value.userId, eventId: value.eventId, kind: 'unfollow' }, () => ctx.reachability.markUnreachable('zalo', value.userId, 'unfollowed the OA'));
        return;
      case 'withdraw': {
        const outcome = await ctx.pipeline.handleEffect(
          { channel: 'zalo', userId: value.userId, eventId: value.eventId, kind: 'withdraw' },
          () => ctx.personalData.eraseUser('zalo', value.userId),
          { forgetSession: true },
        );
        if (outcome === 'handled') log.info({ channel: 'zalo', user: userTag(userKey({ channel: 'zalo', userId: value.userId })) }, "zalo: the person's data was deleted (user_withdraw)");
        return;
      }
      case 'oa-echo':
        track(handleEcho(value.userId, value.messageId, value.text).catch((err: unknown) => log.warn({ channel: 'zalo', err: describeError(err) }, 'zalo: could not check an OA echo')));
        return;
      case 'ignored':
        return;
    }
  }

  const router = createZaloWebhookRouter({ cfg, log, handle, isClosing: () => closing });

  let timer: NodeJS.Timeout | null = null;
  return {
    name: 'zalo',
    router,
    sender,
    zaloReach: client,
    async start() {
      // An unreadable token file is reported now rather than at the first message.
      await tokenStore.load().catch((err: unknown) => log.error({ channel: 'zalo', err: describeError(err) }, 'zalo: the stored tokens cannot be read'));
      timer = setInterval(() => {
        track(tokens.refreshIfDue().catch((err: unknown) => log.error({ channel: 'zalo', err: describeError(err) }, 'zalo: background token renewal failed')));
      }, TOKEN_CHECK_EVERY_MS);
      timer.unref();
      log.info({ channel: 'zalo', webhook: ctx.config.publicUrl ? `${ctx.config.publicUrl}${ZALO_WEBHOOK_PATH}` : ZALO_WEBHOOK_PATH, tokens: tokenStore.kind }, 'zalo: channel on');
    },
    async stop() {
      closing = true;
      if (timer) clearInterval(timer);
      // Replies of events already acknowledged are still being sent: let them finish before closing Redis.
      await ctx.pipeline.drain();
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };
}

/**
 * Sends rendered messages one after another and remembers their message ids, so that their echoes (`oa_send_*`)
 * are recognised as the bot's own and not taken for an OA admin typing.
 */
class ZaloMessenger {
  constructor(
    private readonly client: ZaloApiClient,
    private readonly coordination: ZaloCoordination,
    private readonly cfg: ZaloConfig,
  ) {}

  async send(userId: string, messages: ZaloOutgoing[]): Promise<void> {
    if (messages.length === 0) return;
    const marks: string[] = [];
    await this.coordination.beginSend(userId);
    try {
      for (const m of messages) {
        if (m.kind === 'text') marks.push(sentMessageMark(userId, m.text));
        marks.push((await this.sendOne(userId, m)).message_id);
      }
    } finally {
      await this.coordination.endSend(userId, marks);
    }
  }

  private async sendOne(userId: string, m: ZaloOutgoing) {
    switch (m.kind) {
      case 'text':
        return this.client.sendText(userId, m.text);
      case 'image': {
        const inline = /^data:(image\/(?:png|jpeg));base64,(.+)$/s.exec(m.source);
        if (inline) {
          const type = inline[1] as 'image/png' | 'image/jpeg';
          const attachmentId = await this.client.uploadImage(Buffer.from(inline[2]!, 'base64'), type === 'image/png' ? 'image.png' : 'image.jpg', type);
          return this.client.sendImage(userId, { attachmentId }, m.caption);
        }
        return this.client.sendImage(userId, { url: m.source }, m.caption);
      }
      case 'request-info':
        return this.client.requestUserInfo(userId, { title: m.title, subtitle: m.subtitle, imageUrl: this.cfg.requestInfoImageUrl });
    }
  }
}
