import { normalizeText, parseOptionNumber, parseOptionNumbers } from './normalize';
import { matchTypedOption, matchTypedOptionsByWords, type AnswerableOption } from './optionAnswer';
import type { InboundEvent } from './types';
import type { WordLists } from './words';

/**
 * Reading a person's reply to the question being asked, and nothing else: each parser takes the event and what the
 * question offers and says what the reply means (an answer, a skip, or that it is not an answer). They change
 * nothing; the interpreter acts on what they return (saves, moves on, asks again, tries another flow).
 */

/** The option id a tapped button names, when the button belongs to this step (`<step>:<option>`); else null. */
export function tappedOptionId(event: InboundEvent, stepId: string): string | null {
  if (event.kind !== 'choice' || !event.optionId.startsWith(`${stepId}:`)) return null;
  return event.optionId.slice(stepId.length + 1);
}

export type ChoiceReply<T> = { kind: 'answer'; option: T } | { kind: 'fail' };

/** A single choice: a tapped option, or a typed number, label, synonym or yes/no word. */
export function parseChoiceReply<T extends AnswerableOption>(event: InboundEvent, stepId: string, options: readonly T[], words: WordLists, loose: boolean): ChoiceReply<T> {
  let option: T | undefined;
  if (event.kind === 'choice') {
    const id = tappedOptionId(event, stepId);
    option = options.find((o) => o.id === id);
  } else if (event.kind === 'text') {
    option = matchTypedOption(options, event.text, words, loose);
  }
  return option ? { kind: 'answer', option } : { kind: 'fail' };
}

/**
 * A pick among the engine's own buttons (a did-you-mean guess, a next step after a flow), whose ids are whole (not
 * `<step>:<option>`): the tapped one, or the typed number, label or synonym; undefined when the reply picks none.
 */
export function parseEnginePick<T extends AnswerableOption>(event: InboundEvent, options: readonly T[], words: WordLists, loose: boolean): T | undefined {
  if (event.kind === 'choice') return options.find((o) => o.id === event.optionId);
  if (event.kind === 'text') return matchTypedOption(options, event.text, words, loose);
  return undefined;
}

export type MultiReply =
  /** A tap on one option: the choices so far, with that one added or removed (the question is asked again). */
  | { kind: 'toggle'; draft: string[] }
  /** The chosen option ids, in the options' order for numbers. */
  | { kind: 'answer'; ids: string[] }
  /** "Done" before anything was chosen. */
  | { kind: 'empty' }
  | { kind: 'fail' };

/**
 * A multiple choice: taps build a draft that "done" (a button or a done word) sends; typed numbers ("1 3"), labels
 * separated by commas or "và", or the options' words in a sentence answer at once.
 */
export function parseMultiReply<T extends AnswerableOption>(event: InboundEvent, stepId: string, options: readonly T[], draft: readonly string[] | null, words: WordLists): MultiReply {
  if (event.kind === 'choice') {
    const id = tappedOptionId(event, stepId);
    if (id === 'done') return draft && draft.length > 0 ? { kind: 'answer', ids: [...draft] } : { kind: 'empty' };
    if (id !== null && options.some((o) => o.id === id)) {
      const next = new Set(draft ?? []);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return { kind: 'toggle', draft: options.filter((o) => next.has(o.id)).map((o) => o.id) };
    }
    return { kind: 'fail' };
  }
  if (event.kind !== 'text') return { kind: 'fail' };
  if (words.done.has(normalizeText(event.text)) && (draft?.length ?? 0) > 0) return { kind: 'answer', ids: [...draft!] };
  const numbers = parseOptionNumbers(event.text);
  if (numbers) {
    if (!numbers.every((n) => n >= 1 && n <= options.length)) return { kind: 'fail' };
    return { kind: 'answer', ids: [...numbers].sort((a, b) => a - b).map((n) => options[n - 1]!.id) };
  }
  const parts = event.text.split(/[,;\n]+|\s+(?:và|va|and)\s+/i).filter((p) => normalizeText(p) !== '');
  const matched = parts.map((p) => matchTypedOption(options, p, words));
  if (matched.length > 0 && matched.every((m) => m)) return { kind: 'answer', ids: [...new Set(matched.map((m) => m!.id))] };
  const byWords = matchTypedOptionsByWords(options, event.text, words);
  return byWords ? { kind: 'answer', ids: byWords.map((o) => o.id) } : { kind: 'fail' };
}

/** "Skip" for an optional step: its skip button, a skip word, or "1" (the skip option is the only number offered). */
export function isSkipReply(event: InboundEvent, stepId: string, words: WordLists): boolean {
  if (event.kind === 'choice') return event.optionId === `${stepId}:skip`;
  if (event.kind === 'text') return words.skip.has(normalizeText(event.text)) || parseOptionNumber(event.text) === 1;
  return false;
}

/** At the summary: 1 or a confirm word sends, 2 or an edit word picks a field to change; anything else is not an answer. */
export function parseSummaryReply(event: InboundEvent, stepId: string, words: WordLists): 'confirm' | 'edit' | null {
  if (event.kind === 'choice') {
    const id = tappedOptionId(event, stepId);
    return id === 'confirm' || id === 'edit' ? id : null;
  }
  if (event.kind !== 'text') return null;
  const n = parseOptionNumber(event.text);
  const text = normalizeText(event.text);
  let pick: 'confirm' | 'edit' | null = null;
  if (n === 1 || words.confirm.has(text)) pick = 'confirm';
  if (n === 2 || words.edit.has(text)) pick = 'edit';
  return pick;
}

/** What a reply to a typed, location or photo question means: the value to save, a skip, or not an answer. */
export type ValueReply<T> = { kind: 'answer'; value: T } | { kind: 'skip' } | { kind: 'fail' };

/**
 * A typed answer: the text as written (its validator judges it), or the shared phone number where the step asks for a
 * phone. Only a skip word skips an optional typed answer: a number is a possible answer there.
 */
export function parseInputReply(event: InboundEvent, step: { optional?: boolean; requestPhone?: boolean }, words: WordLists): ValueReply<string> {
  if (event.kind === 'contact' && step.requestPhone) return { kind: 'answer', value: event.phone };
  if (event.kind !== 'text') return { kind: 'fail' };
  if (step.optional && words.skip.has(normalizeText(event.text))) return { kind: 'skip' };
  return { kind: 'answer', value: event.text };
}

/** A shared location, or a skip where the step is optional. */
export function parseLocationReply(event: InboundEvent, stepId: string, optional: boolean, words: WordLists): ValueReply<{ latitude: number; longitude: number }> {
  if (event.kind === 'location') return { kind: 'answer', value: { latitude: event.latitude, longitude: event.longitude } };
  return optional && isSkipReply(event, stepId, words) ? { kind: 'skip' } : { kind: 'fail' };
}

/** A sent photo (its platform reference and channel, fetched only when an action needs it), or a skip where optional. */
export function parsePhotoReply(event: InboundEvent, stepId: string, optional: boolean, words: WordLists): ValueReply<{ fileRef: string; channel: InboundEvent['channel'] }> {
  if (event.kind === 'photo') return { kind: 'answer', value: { fileRef: event.fileRef, channel: event.channel } };
  return optional && isSkipReply(event, stepId, words) ? { kind: 'skip' } : { kind: 'fail' };
}

/**
 * At "continue where you left off, or start again?": the engine's button, 1 or 2, a continue or restart word, or the
 * button's label typed out (`labels`, in the person's language); null when the reply is neither.
 */
export function parseResumeReply(event: InboundEvent, buttonPrefix: string, labels: { continue: string; restart: string }, words: WordLists): 'continue' | 'restart' | null {
  if (event.kind === 'choice') {
    if (event.optionId === `${buttonPrefix}:continue`) return 'continue';
    if (event.optionId === `${buttonPrefix}:restart`) return 'restart';
    return null;
  }
  if (event.kind !== 'text') return null;
  const n = parseOptionNumber(event.text);
  const text = normalizeText(event.text);
  let pick: 'continue' | 'restart' | null = null;
  if (n === 1 || words.continue.has(text) || text === normalizeText(labels.continue)) pick = 'continue';
  if (n === 2 || words.restart.has(text) || text === normalizeText(labels.restart)) pick = 'restart';
  return pick;
}
