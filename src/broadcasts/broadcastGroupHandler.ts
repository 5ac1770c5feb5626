import type { Translator } from '../engine/contracts';
import { cleanTypedText } from '../engine/normalize';
import { createSession, type InboundEvent, type Reply, type Session } from '../engine/types';
import { matchGlobalCommand, type WordLists } from '../engine/words';
import type { GroupChat, GroupEvent, GroupEventHandler, GroupEventResult } from '../groups/GroupEvents';
import type { OfficialsScope } from '../records/officialsScope';
import { STOP_BUTTON, type BroadcastService } from './BroadcastService';

/** The announcement flow (`flows/broadcast.json`), for officials' groups only. */
export const BROADCAST_FLOW = 'broadcast';
/**
 * The flow's step that sends (flows/broadcast.json): only a tap on its button sends, never a typed answer, so that
 * a "1" meant for something else cannot start an announcement to the whole district.
 */
export const CONFIRM_STEP = 'confirm';
/** A group's draft is dropped this long after `/thongbao` started it. */
export const DRAFT_TTL_MS = 30 * 60_000;
/** Buttons of the announcement in a group carry the flow's option ids behind this prefix (`bc:confirm:send`). */
export const BROADCAST_BUTTON_PREFIX = 'bc:';
/** The `profile.commune` of the district group's session (a commune group's is its commune). */
export const DISTRICT_SCOPE = 'district';

const COMMAND = /^\/(\w+)(?:@\w+)?(?:\s+(.*))?$/s;

/** What runs the announcement flow: the engine over the officials' flows. */
export interface GroupConversationEngine {
  handle(stored: Session | null, event: InboundEvent, now: number): Promise<{ session: Session; replies: Reply[] }>;
  /** The replies that ask the current question again. */
  currentPrompt(session: Session | null): Reply[];
}

export interface BroadcastGroupHandlerDeps {
  broadcasts: BroadcastService;
  engine: GroupConversationEngine;
  /** The cancel words (`locales/<lang>/words.json`): they drop a draft at any step. */
  words: WordLists;
  i18n: Translator;
  clock: () => number;
}

/**
 * `/thongbao` in an officials' group: the announcement flow, run by the engine on the group chat's session. This
 * handler keeps what a conversation of one person does not have: a draft belongs to the official who started it
 * (only they type its texts and tap its buttons; others are told who is drafting), it expires `DRAFT_TTL_MS` after it
 * started, and only officials' groups may start one. `/huythongbao <id>` and the "stop" button stop a running one.
 */
export function createBroadcastGroupHandler(deps: BroadcastGroupHandlerDeps): GroupEventHandler {
  const { broadcasts, engine, words, i18n, clock } = deps;
  const vi = (key: string, vars?: Record<string, unknown>) => i18n.t('vi', key, vars);
  const say = (text: string): GroupEventResult => ({ replies: [{ kind: 'text', text }] });
  const toast = (text: string): GroupEventResult => ({ replies: [], toast: text });

  const converse = async (chat: GroupChat, event: GroupEvent, inbound: InboundEvent, start?: { scope: OfficialsScope }): Promise<GroupEventResult> => {
    const now = clock();
    const stored = start ? restingSession(chat.session, start.scope, now) : chat.session;
    const { session, replies } = await engine.handle(stored, inbound, now);
    if (start && session.flow === BROADCAST_FLOW) Object.assign(session.answers, { owner: event.fromUserId, ownerName: event.fromName, startedAt: now });
    if (inbound.kind === 'text') keepLineBreaks(stored.answers, session.answers, inbound.text);
    chat.session = session;
    return { replies: replies.map(withButtonPrefix) };
  };

  const onButton = async (event: GroupEvent, data: string, chat: GroupChat): Promise<GroupEventResult> => {
    if (!broadcasts.scopeOf(event.chatId)) return toast(vi('broadcast.notOfficialsGroup'));
    const stop = new RegExp(`^${BROADCAST_BUTTON_PREFIX}${STOP_BUTTON}(\\d+)$`).exec(data);
    if (stop) return toast(vi(`broadcast.${await broadcasts.stopFromGroup(event.chatId, Number(stop[1]))}`));
    const draft = liveDraft(chat.session, clock());
    if (!draft) return toast(vi('broadcast.noDraft'));
    if (draft.expired) {
      chat.session = restingSession(chat.session, null, clock());
      return toast(vi('broadcast.draftExpired'));
    }
    if (draft.owner !== event.fromUserId) return toast(vi('broadcast.notYourDraft', { name: draft.ownerName }));
    return converse(chat, event, { ...inboundOf(event), kind: 'choice', optionId: data.slice(BROADCAST_BUTTON_PREFIX.length) });
  };

  return async (event, chat) => {
    if (event.kind === 'button') return event.data?.startsWith(BROADCAST_BUTTON_PREFIX) ? onButton(event, event.data, chat) : null;
    if (!event.text) return null;
    const text = event.text.trim();
    const command = COMMAND.exec(text);
    if (command?.[1] === 'thongbao') {
      const scope = broadcasts.scopeOf(event.chatId);
      if (!scope) return say(vi('broadcast.notOfficialsGroup'));
      const draft = liveDraft(chat.session, clock());
      if (draft && !draft.expired && draft.owner !== event.fromUserId) return say(vi('broadcast.draftBusy', { name: draft.ownerName }));
      return converse(chat, event, { ...inboundOf(event), kind: 'start', payload: BROADCAST_FLOW }, { scope });
    }
    if (command?.[1] === 'huythongbao') return say(vi(`broadcast.${await broadcasts.stopFromGroup(event.chatId, Number(command[2]?.trim()))}`));
    const draft = liveDraft(chat.session, clock());
    if (!draft) return null;
    if (draft.expired) {
      chat.session = restingSession(chat.session, null, clock());
      // What other officials write in the group is not for this draft: only its author is told it expired.
      return draft.owner === event.fromUserId ? say(vi('broadcast.draftExpired')) : null;
    }
    if (draft.owner !== event.fromUserId) return null;
    if (matchGlobalCommand(text, words)?.kind === 'cancel') {
      chat.session = restingSession(chat.session, null, clock());
      return say(vi('broadcast.draftCancelled'));
    }
    if (chat.session.step === CONFIRM_STEP) return { replies: [{ kind: 'text', text: vi('broadcast.useButtons') }, ...engine.currentPrompt(chat.session).map(withButtonPrefix)] };
    return converse(chat, event, { ...inboundOf(event), kind: 'text', text });
  };
}

/** The group's draft and its author, or null; `expired` once `DRAFT_TTL_MS` passed since it started. */
function liveDraft(session: Session, now: number): { owner: string | null; ownerName: string; expired: boolean } | null {
  if (session.flow !== BROADCAST_FLOW) return null;
  const { owner, ownerName, startedAt } = session.answers;
  const author = typeof owner === 'string' ? owner : null;
  return { owner: author, ownerName: String(ownerName ?? ''), expired: author === null || typeof startedAt !== 'number' || now - startedAt > DRAFT_TTL_MS };
}

/**
 * The group's session with no draft. A group speaks Vietnamese and stands for its scope (its commune, or the
 * district), so the engine asks it no onboarding question.
 */
function restingSession(current: Session, scope: OfficialsScope | null, now: number): Session {
  const session = createSession(now);
  session.profile = scope ? { locale: 'vi', commune: scope.kind === 'commune' ? scope.commune : DISTRICT_SCOPE } : current.profile;
  return session;
}

function inboundOf(event: GroupEvent): { channel: GroupEvent['channel']; userId: string; eventId: string } {
  return { channel: event.channel, userId: event.chatId, eventId: event.eventId };
}

/**
 * The engine keeps a typed answer on one line; an announcement keeps the paragraphs its author typed. An answer this
 * message set to its one-line form gets the text as typed.
 */
function keepLineBreaks(before: Session['answers'], after: Session['answers'], typed: string): void {
  const oneLine = cleanTypedText(typed);
  const asTyped = typed.normalize('NFC').trim();
  if (asTyped === oneLine) return;
  for (const [name, value] of Object.entries(after)) if (value === oneLine && before[name] !== oneLine) after[name] = asTyped;
}

/** The group's buttons: the flow's option ids behind the prefix; the sending step's are buttons only (no number to type). */
function withButtonPrefix(reply: Reply): Reply {
  if (reply.kind !== 'choices') return reply;
  return {
    ...reply,
    options: reply.options.map(({ number, ...o }) => ({ ...o, id: `${BROADCAST_BUTTON_PREFIX}${o.id}`, ...(number !== undefined && !o.id.startsWith(`${CONFIRM_STEP}:`) ? { number } : {}) })),
  };
}
