import type { ChannelContext, ChannelPlugin } from './ChannelPlugin';
import { createTelegramChannel } from './telegram/telegramChannel';
import { createWebChannel } from './web/webChannel';
import { createZaloChannel } from './zalo/zaloChannel';

/** The channels that are on for this configuration. The web chat needs nothing and is always on. */
export function createChannels(ctx: ChannelContext): ChannelPlugin[] {
  const channels: ChannelPlugin[] = [createWebChannel(ctx)];
  if (ctx.config.zalo) channels.push(createZaloChannel(ctx));
  if (ctx.config.telegram) channels.push(createTelegramChannel(ctx, ctx.config.telegram));
  return channels;
}
