import path from 'node:path';
import { describeError } from '../../errors';
import type { ChannelContext, ChannelPlugin } from '../ChannelPlugin';
import { createZaloWebhookRouter, ZALO_WEBHOOK_PATH } from './zaloWebhook';
import { ZaloApiClient } from './ZaloApiClient';
import { MemoryRateLimiter, RedisRateLimiter } from '../../util/RateLimiter';
import { MemoryZaloCoordination, RedisZaloCoordination, zaloApiRate } from './ZaloCoordination';
import { ZaloEventHandler } from './ZaloEventHandler';
import { ZaloSender } from './ZaloSender';
import { FileTokenStore, ZaloTokenManager, type TokenStore } from './ZaloTokens';

/** The token file under DATA_DIR (until the records database keeps tokens). */
export const ZALO_TOKEN_FILE = 'zalo-tokens.json';

/** How often the background check renews a token that is due (keeps the 3-month refresh token alive too). */
const TOKEN_CHECK_EVERY_MS = 10 * 60_000;

export interface ZaloChannelOptions {
  /** Where the token pair is kept; default: a file under DATA_DIR. */
  tokenStore?: TokenStore;
  /** Client timings (tests shorten the -32 back-off). */
  backoffMs?: number;
}

/**
 * The Zalo Official Account channel, shaped like Telegram's: the webhook (`zaloWebhook`: signature, parse), the
 * handler (`ZaloEventHandler`: the update pipeline), the sender (`ZaloSender`: replies, notices and broadcasts,
 * reachability), and here their composition with the API client, the token renewal and the cross-process
 * coordination (rate, hand-over pauses) on the process's one Redis.
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

  const coordination = ctx.redis ? new RedisZaloCoordination(ctx.redis, ctx.config.redisKeyPrefix) : new MemoryZaloCoordination();
  const rate = zaloApiRate(cfg.rateLimitPerMinute);
  const limiter = ctx.redis ? new RedisRateLimiter(ctx.redis, `${ctx.config.redisKeyPrefix}rate:zalo-oa-api`, rate) : new MemoryRateLimiter(rate);
  const tokenStore = options.tokenStore ?? new FileTokenStore(path.join(ctx.config.dataDir, ZALO_TOKEN_FILE));
  const tokens = new ZaloTokenManager({
    oauth: { oauthRoot: cfg.oauthRoot, appId: cfg.appId, appSecret: cfg.appSecret },
    store: tokenStore,
    coordination,
    log,
    initial: { accessToken: cfg.accessToken, refreshToken: cfg.refreshToken },
    refreshAheadMs: cfg.refreshAheadMs,
  });
  const client = new ZaloApiClient({ apiRoot: cfg.apiRoot, tokens, limiter, log, backoffMs: options.backoffMs });
  const sender = new ZaloSender({ client, coordination, reachability: ctx.reachability, store: ctx.store, i18n: ctx.i18n, defaultLocale: ctx.config.defaultLocale, cfg, log, pictures: ctx.pictures });
  const handler = new ZaloEventHandler({ pipeline: ctx.pipeline, sender, coordination, client, personalData: ctx.personalData, i18n: ctx.i18n, cfg, log });

  ctx.personalData.register('zalo-handover', async (channel, userId) => {
    if (channel === 'zalo') await coordination.unpause(userId);
  });

  let closing = false;
  let timer: NodeJS.Timeout | null = null;
  return {
    name: 'zalo',
    router: createZaloWebhookRouter({ cfg, log, handle: (meaning) => handler.handle(meaning), isClosing: () => closing }),
    sender,
    zaloReach: client,
    async start() {
      // An unreadable token file is reported now rather than at the first message.
      await tokenStore.load().catch((err: unknown) => log.error({ channel: 'zalo', err: describeError(err) }, 'zalo: the stored tokens cannot be read'));
      timer = setInterval(() => {
        handler.track(tokens.refreshIfDue().catch((err: unknown) => log.error({ channel: 'zalo', err: describeError(err) }, 'zalo: background token renewal failed')));
      }, TOKEN_CHECK_EVERY_MS);
      timer.unref();
      log.info({ channel: 'zalo', webhook: ctx.config.publicUrl ? `${ctx.config.publicUrl}${ZALO_WEBHOOK_PATH}` : ZALO_WEBHOOK_PATH, tokens: tokenStore.kind }, 'zalo: channel on');
    },
    async stop() {
      closing = true;
      if (timer) clearInterval(timer);
      // Replies of events already acknowledged are still being sent: let them finish before closing Redis.
      await ctx.pipeline.drain();
      await handler.idle();
    },
  };
}
