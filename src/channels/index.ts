import type { ChannelContext, ChannelPlugin } from './ChannelPlugin';
import { createTelegramChannel } from './telegram/telegramChannel';
import { createWebChannel } from './web/webChannel';
import { PgTokenStore } from './zalo/PgTokenStore';
import { createZaloChannel } from './zalo/zaloChannel';

/** The channels that are on for this configuration. The web chat needs nothing and is always on. */
export function createChannels(ctx: ChannelContext): ChannelPlugin[] {
  const channels: ChannelPlugin[] = [createWebChannel(ctx)];
  // With a PostgreSQL server every process, on any machine, shares the rotating Zalo token pair through it; the
  // embedded database belongs to one process, so then the pair stays in the file under DATA_DIR.
  if (ctx.config.zalo) channels.push(createZaloChannel(ctx, ctx.db && ctx.config.databaseUrl ? { tokenStore: new PgTokenStore(ctx.db) } : {}));
  if (ctx.config.telegram) channels.push(createTelegramChannel(ctx, ctx.config.telegram));
  return channels;
}
