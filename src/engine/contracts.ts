import type { ChannelName, JsonValue, Locale, Reply, ReplyOption, Session } from './types';

/*
 * The engine's public contracts: what the rest of the project implements (translator, validators, actions, option
 * sources) or uses (the numbered list of a question). Everything here is a type or a pure function, so that any layer
 * may import it without pulling in the interpreter.
 */

/** Looks texts up by key in a locale. */
export interface Translator {
  /** The languages on offer (the folders of `locales/`), Vietnamese first. */
  readonly locales: readonly Locale[];
  t(locale: Locale, key: string, vars?: Record<string, unknown>): string;
  has(locale: Locale, key: string): boolean;
  /** The text when it needs no variables (what `t` would return for any vars), else null: spares building vars. */
  plain?(locale: Locale, key: string): string | null;
}

/** Bad input is a value: `error` is a text key shown before the question is asked again. */
export type ValidationResult =
  | { ok: true; value: JsonValue; display?: string }
  | { ok: false; error: string; vars?: Record<string, string | number> };

/** A named check of typed text, registered in src/ and named by flows (`"validator": "fullName"`). */
export type Validator = (raw: string, ctx: { locale: Locale; now: number }) => ValidationResult;

export interface ActionContext {
  channel: ChannelName;
  userId: string;
  /** Idempotency key: the same event id must never have a second effect. */
  eventId: string;
  locale: Locale;
  profile: Session['profile'];
  answers: Readonly<Record<string, JsonValue>>;
  now: number;
  /** An answer of the current flow as a person reads it (option labels, not ids), in the given locale. */
  display(stepId: string, locale: Locale): string;
}

/**
 * Expected failures are values: `message` is a text key shown to the user. Infrastructure failures throw, so the
 * event is not committed and the platform redelivers it.
 */
export type ActionResult =
  /** `replies` are shown after the texts before the action (a document, a picture). */
  | { ok: true; output?: Record<string, JsonValue>; replies?: Reply[] }
  | { ok: false; message: string; vars?: Record<string, string | number> };

export type Action = (ctx: ActionContext) => Promise<ActionResult>;

/**
 * A list of options computed from data (e.g. the communes of the locality file, or search results kept in the
 * answers). Labels are literal text.
 */
export type OptionSource = (ctx: {
  locale: Locale;
  profile: Session['profile'];
  answers: Readonly<Record<string, JsonValue>>;
}) => Array<{ id: string; label: string; synonyms?: string[] }>;

/** What flows may name. Built once at start-up. */
export interface EngineRegistry {
  validators: Record<string, Validator>;
  actions: Record<string, Action>;
  optionSources: Record<string, OptionSource>;
  /** Variables every text may use, such as `{{commune}}`. */
  textVars(profile: Session['profile'], locale: Locale): Record<string, string>;
  /** The guidance picture a step names (`"picture": "fivek"`), or null when there is none to show. */
  picture?(id: string, profile: Session['profile'], locale: Locale): Extract<Reply, { kind: 'picture' }> | null;
}

/** The numbered list every channel shows under a question, so that typing a number always works. */
export function formatChoicesAsText(reply: Extract<Reply, { kind: 'choices' }>, options?: { selectedMark?: string }): string {
  const selected = new Set(reply.selected ?? []);
  const mark = options?.selectedMark ?? '✓ ';
  const lines = reply.options
    .filter((o): o is ReplyOption & { number: number } => o.number !== undefined)
    .map((o) => `${o.number}. ${selected.has(o.id) ? mark : ''}${o.label}`);
  return lines.length > 0 ? `${reply.text}\n\n${lines.join('\n')}` : reply.text;
}

/** A reply as plain text, as a person would read it (tests and the transcripts); media show as `[kind address]`. */
export function replyAsText(reply: Reply): string {
  switch (reply.kind) {
    case 'choices':
      return formatChoicesAsText(reply);
    case 'image':
      return `[image ${reply.url}] ${reply.caption ?? ''}`;
    case 'picture':
      return `[picture ${reply.id}] ${reply.caption}`;
    case 'voice':
      return `[voice ${reply.ref}]`;
    case 'document':
      return `[document ${reply.url}] ${reply.caption ?? ''}`;
    default:
      return reply.text;
  }
}
