/**
 * The engine's channel-neutral vocabulary. Channel adapters turn platform payloads into `InboundEvent`s and render
 * `Reply`s into platform messages; nothing in here knows about Telegram, Zalo or the web chat.
 */

export type ChannelName = 'web' | 'telegram' | 'zalo';
/**
 * A language: the name of a folder under `locales/` (`vi`, `en`, or any folder a district adds, e.g. `hmn`).
 * Vietnamese is the default and complete; English is complete; the languages on offer are the folders found at
 * start-up (see `Translator.locales`).
 */
export type Locale = string;
/** The languages every deployment has (and checks at start-up). */
export const REQUIRED_LOCALES: readonly Locale[] = ['vi', 'en'];

interface EventBase {
  channel: ChannelName;
  /** The platform's id of the person (or group chat), as a string. */
  userId: string;
  /** The platform's id of this delivery; a redelivered event carries the same id. */
  eventId: string;
}

export type InboundEvent = EventBase &
  (
    | { kind: 'text'; text: string }
    /** A tap on a rendered option; `optionId` is the option's id. */
    | { kind: 'choice'; optionId: string }
    | { kind: 'location'; latitude: number; longitude: number }
    /** `fileRef` is the platform's reference to the file; it is fetched only when an action needs it. */
    | { kind: 'photo'; fileRef: string; caption?: string }
    | { kind: 'contact'; phone: string; name?: string }
    /** A voice message; `fileRef` is the platform's reference to the recording (Telegram file id, Zalo URL). */
    | { kind: 'voice'; fileRef: string }
    /** Start of a conversation, with an optional deep-link payload. */
    | { kind: 'start'; payload?: string }
  );

export type InboundEventKind = InboundEvent['kind'];

export interface ReplyOption {
  /** Short ASCII id (at most 60 bytes), unique within the reply; sent back as a `choice` event. */
  id: string;
  label: string;
  /** The number a user may type instead of tapping; options without one are buttons only (e.g. "Done"). */
  number?: number;
}

export type Reply =
  | { kind: 'text'; text: string }
  /**
   * A question with options. `text` is the question alone; `formatChoicesAsText` adds the numbered list that every
   * channel shows (so typing `2` always works); channels with buttons also render `options` as buttons.
   * `multi` means several may be chosen; `selected` lists the option ids chosen so far.
   */
  | { kind: 'choices'; text: string; options: ReplyOption[]; multi?: boolean; selected?: string[] }
  | { kind: 'image'; url: string; caption?: string }
  /**
   * A guidance picture (numbered steps drawn as a card, or the district's own file). `ref` names the file, and
   * changes with its content; channels get the bytes by it (upload to Telegram and Zalo, an address on the web).
   * `alt` says everything the picture says, for screen readers and for channels that cannot show it; `caption` is
   * its title.
   */
  | { kind: 'picture'; id: string; ref: string; alt: string; caption: string }
  /**
   * A file to keep or print (a venue's poster): `url` is the file (a PDF), `imageUrl` a picture of it for channels
   * that show images rather than files. Telegram sends the document, Zalo the picture and the link, the web a link.
   */
  | { kind: 'document'; url: string; fileName: string; caption?: string; imageUrl?: string }
  | { kind: 'request-location'; text: string; buttonLabel: string; skipOption?: ReplyOption }
  | { kind: 'request-phone'; text: string; buttonLabel: string }
  /** A voice recording to play (a Telegram file id, or an https address shown as a link where it cannot be played). */
  | { kind: 'voice'; ref: string; caption?: string };

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What the engine keeps of a user between events. Plain JSON, versioned, addressed by step id. */
export interface Session {
  /** Shape version of this object; a session with another version is discarded politely. */
  v: number;
  profile: { locale: Locale | null; commune: string | null };
  /** The flow and step the user is in; null at rest (after the menu was shown, before onboarding). */
  flow: string | null;
  flowVersion: number | null;
  step: string | null;
  /** Answers of the current flow, by the step's `save` name. */
  answers: Record<string, JsonValue>;
  /** Step ids visited in the current flow, for `back`. */
  history: string[];
  /**
   * A question the engine itself asks on top of the current step: whether to continue an interrupted flow
   * (`resume`), which field of a summary to edit (`pick-field`), or which flow a typed message meant (`guess`).
   */
  sub: 'resume' | 'pick-field' | 'guess' | 'after' | null;
  /**
   * With `sub: 'guess'`: what a typed message may have asked for (flow ids or `<flow>__<step>`), best first. With
   * `sub: 'after'` (at the menu, after a flow ended): the next steps offered besides "back to the menu".
   */
  guesses?: string[];
  /** A deep-link payload that arrived before onboarding was finished; honoured right after it. */
  pendingStart: string | null;
  /** Selections made so far in a multi-choice step. */
  multiDraft: string[] | null;
  /** Step to return to after editing one field from a summary. */
  returnTo: string | null;
  /** Messages not understood in a row (absent when the last one was understood); the third offers a contact. */
  misses?: number;
  /** Last time an event was handled (ms since epoch). */
  updatedAt: number;
}

export const SESSION_VERSION = 1;

export function createSession(now: number): Session {
  return {
    v: SESSION_VERSION,
    profile: { locale: null, commune: null },
    flow: null,
    flowVersion: null,
    step: null,
    answers: {},
    history: [],
    sub: null,
    pendingStart: null,
    multiDraft: null,
    returnTo: null,
    updatedAt: now,
  };
}
