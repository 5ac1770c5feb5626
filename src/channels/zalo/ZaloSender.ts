import type { ZaloConfig } from '../../config';
import type { Translator } from '../../engine/contracts';
import type { Locale, Reply, Session } from '../../engine/types';
import { userTag, type Logger } from '../../logger';
import { RecipientOutsideWindowError, RecipientUnreachableError, type ChannelSender } from '../../outbound/Outbound';
import { userKey } from '../../pipeline/userKey';
import type { SessionStore } from '../../sessions/SessionStore';
import type { Reachability } from '../../users/Reachability';
import type { PictureFiles } from '../../guidance/GuidancePictures';
import { renderZaloReplies, type ZaloOutgoing, type ZaloTextKey } from './renderZaloReplies';
import { ZaloApiError, type ZaloApiClient } from './ZaloApiClient';
import { sentMessageMark, type ZaloCoordination } from './ZaloCoordination';

export interface ZaloSenderDeps {
  client: ZaloApiClient;
  coordination: ZaloCoordination;
  reachability: Reachability;
  /** Where a person's language is read for messages outside a conversation. */
  store: Pick<SessionStore, 'peek'>;
  i18n: Translator;
  defaultLocale: Locale;
  cfg: Pick<ZaloConfig, 'requestInfoImageUrl'>;
  log: Logger;
  /** Guidance pictures' files (uploaded to Zalo once, then sent by attachment id). */
  pictures?: PictureFiles;
}

/**
 * Sends to Zalo users: the replies of a conversation (`reply`) and messages outside one (`send`: notices,
 * broadcasts). The one owner of Zalo's reachability marks: a follower who writes is reachable again, one who
 * unfollowed or is no follower (-213) is not. Sent messages are remembered (ids and texts), so that their echoes
 * (`oa_send_*`) are recognised as the bot's own and not taken for an OA admin typing.
 */
export class ZaloSender implements ChannelSender {
  readonly channel = 'zalo' as const;

  constructor(private readonly deps: ZaloSenderDeps) {}

  /** The language of a person's conversation (the default before they chose one). */
  localeOf(session: Session | null): Locale {
    return session?.profile.locale ?? this.deps.defaultLocale;
  }

  /** Outside a conversation: refused without calling Zalo while the person is marked unreachable. */
  async send(userId: string, replies: Reply[]): Promise<void> {
    if (!(await this.deps.reachability.isReachable('zalo', userId))) throw new RecipientUnreachableError('zalo', 'marked unreachable (unfollowed the OA) until they follow or write again');
    // Only a location or phone request adds words of ours (in the person's language): a broadcast's text needs no
    // session read per recipient.
    const translated = replies.some((r) => r.kind === 'request-location' || r.kind === 'request-phone');
    await this.reply(userId, replies, translated ? this.localeOf(await this.deps.store.peek(userKey({ channel: 'zalo', userId }))) : this.deps.defaultLocale);
  }

  /**
   * Sends replies to a person in their language. -213 (not a follower) marks them unreachable and throws
   * `RecipientUnreachableError`; -230/-232 (no interaction in 7 days) throw `RecipientOutsideWindowError`, not retried.
   */
  async reply(userId: string, replies: Reply[], locale: Locale): Promise<void> {
    try {
      await this.sendAll(userId, renderZaloReplies(replies, (key: ZaloTextKey) => this.deps.i18n.t(locale, key), this.deps.pictures));
    } catch (err) {
      // Outside the 7-day window is not "unreachable": the person is back as soon as they write, and broadcasts
      // count them separately. Not being a follower (unfollowed) is unreachable until they follow again.
      if (err instanceof ZaloApiError && err.isOutsideWindow) throw new RecipientOutsideWindowError('zalo', String(err.code));
      if (err instanceof ZaloApiError && err.isNotFollower) {
        const reason = 'not a follower of the OA (-213)';
        await this.markGone(userId, reason);
        throw new RecipientUnreachableError('zalo', reason);
      }
      throw err;
    }
  }

  /** The person wrote or followed: messages reach them again (and what waited for them goes out). */
  markBack(userId: string): Promise<void> {
    return this.deps.reachability.markReachable('zalo', userId);
  }

  /** The person cannot be messaged (unfollowed, not a follower) until they come back. */
  async markGone(userId: string, reason: string): Promise<void> {
    await this.deps.reachability.markUnreachable('zalo', userId, reason);
    this.deps.log.info({ channel: 'zalo', user: userTag(userKey({ channel: 'zalo', userId })), reason }, 'zalo: person cannot be reached: marked unreachable');
  }

  private async sendAll(userId: string, messages: ZaloOutgoing[]): Promise<void> {
    if (messages.length === 0) return;
    const marks: string[] = [];
    await this.deps.coordination.beginSend(userId);
    try {
      for (const m of messages) {
        if (m.kind === 'text') marks.push(sentMessageMark(userId, m.text));
        marks.push((await this.sendOne(userId, m)).message_id);
      }
    } finally {
      await this.deps.coordination.endSend(userId, marks);
    }
  }

  private async sendOne(userId: string, m: ZaloOutgoing) {
    const { client } = this.deps;
    switch (m.kind) {
      case 'text':
        return client.sendText(userId, m.text);
      case 'image': {
        const inline = /^data:(image\/(?:png|jpeg));base64,(.+)$/s.exec(m.source);
        if (inline) {
          const type = inline[1] as 'image/png' | 'image/jpeg';
          const attachmentId = await client.uploadImage(Buffer.from(inline[2]!, 'base64'), type === 'image/png' ? 'image.png' : 'image.jpg', type);
          return client.sendImage(userId, { attachmentId }, m.caption);
        }
        return client.sendImage(userId, { url: m.source }, m.caption);
      }
      case 'request-info':
        return client.requestUserInfo(userId, { title: m.title, subtitle: m.subtitle, imageUrl: this.deps.cfg.requestInfoImageUrl });
    }
  }
}
