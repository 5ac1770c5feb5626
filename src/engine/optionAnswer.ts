import { normalizeText, parseOptionNumber } from './normalize';
import type { WordLists } from './words';

/**
 * Reading a typed answer to the question being asked, before anything else is tried (navigation words, other flows):
 * its number, a label (in any locale) or synonym, a yes/no word for the option that says yes or no ("co", "k"), a
 * label's unambiguous part, or a label or synonym that makes up most of the message ("co, o vung dich" →
 * "Có, từ vùng có dịch"; "em bị sốt với ho" → Sốt + Ho). Pure: it returns the option(s) and changes nothing.
 */

export interface AnswerableOption {
  id: string;
  label: string;
  /** The label in every locale. */
  allLabels?: string[];
  synonyms?: string[];
  /** Yes/no words choose this option. */
  means?: 'yes' | 'no';
}

/**
 * The option a typed message picks, or undefined. `loose`: also when a label or synonym makes up most of the message
 * (for questions inside a flow; at the main menu, the intent matcher reads longer messages better).
 */
export function matchTypedOption<T extends AnswerableOption>(options: readonly T[], typed: string, words: WordLists, loose = true): T | undefined {
  const n = parseOptionNumber(typed);
  if (n !== null) return options[n - 1];
  const text = normalizeText(typed);
  if (text === '') return undefined;
  const names = options.map((o) => namesOf(o));
  const exact = options.filter((_, i) => names[i]!.includes(text));
  if (exact.length === 1) return exact[0];
  if (exact.length > 1) return undefined;

  if (words.yes.has(text) || words.no.has(text)) return onlyOne(polarOptions(options, names, words.yes.has(text) ? words.yes : words.no));

  if (text.length >= 3) {
    const partial = options.filter((o) => (o.allLabels ?? [o.label]).some((l) => normalizeText(l).split(' ').length > 1 && containsWords(normalizeText(l), text)));
    if (partial.length === 1) return partial[0];
  }

  if (!loose) return undefined;
  // A yes or no word first narrows the options to those that say yes (or no); the rest of the message picks one.
  let tokens = text.split(' ');
  let candidates = options.map((_, i) => i);
  const polarity = tokens.length > 1 ? (words.yes.has(tokens[0]!) ? words.yes : words.no.has(tokens[0]!) ? words.no : null) : null;
  if (polarity) {
    tokens = tokens.slice(1);
    const polar = new Set(polarOptions(options, names, polarity).map((o) => options.indexOf(o)));
    candidates = candidates.filter((i) => polar.has(i));
  }
  const content = tokens.filter((t) => !words.fillers.has(t)).length;
  let best: number[] = [];
  let bestLength = 0;
  for (const i of candidates) {
    let longest = 0;
    for (const name of names[i]!) {
      const nameWords = name.split(' ');
      if (nameWords.every((w) => words.fillers.has(w))) continue;
      if (containsWords(tokens.join(' '), name)) longest = Math.max(longest, nameWords.filter((w) => !words.fillers.has(w)).length);
    }
    if (longest === 0 || longest * 2 < content) continue;
    if (longest > bestLength) {
      best = [i];
      bestLength = longest;
    } else if (longest === bestLength) best.push(i);
  }
  return best.length === 1 ? options[best[0]!] : undefined;
}

/**
 * The options a typed message picks in a question with several answers, read word by word ("sot ho",
 * "em bị sốt với ho"): every word that is not a filler must belong to an option's label or synonym. Null otherwise.
 */
export function matchTypedOptionsByWords<T extends AnswerableOption>(options: readonly T[], typed: string, words: WordLists): T[] | null {
  const tokens = normalizeText(typed).split(' ').filter(Boolean);
  const names = options.map((o) => namesOf(o).map((n) => n.split(' ')));
  const picked = new Set<number>();
  let i = 0;
  while (i < tokens.length) {
    let bestOption = -1;
    let bestLength = 0;
    names.forEach((list, o) => {
      for (const name of list) {
        if (name.length <= bestLength || i + name.length > tokens.length) continue;
        if (name.every((w, j) => tokens[i + j] === w)) {
          bestOption = o;
          bestLength = name.length;
        }
      }
    });
    if (bestOption >= 0) {
      picked.add(bestOption);
      i += bestLength;
    } else if (words.fillers.has(tokens[i]!)) i++;
    else return null;
  }
  return picked.size > 0 ? [...picked].sort((a, b) => a - b).map((o) => options[o]!) : null;
}

/** True when the message is, or starts with, an answer to the options (so it is not taken as a command). */
export function answersOptions(options: readonly AnswerableOption[], typed: string, words: WordLists, multi: boolean, loose = true): boolean {
  if (matchTypedOption(options, typed, words, loose)) return true;
  return multi && matchTypedOptionsByWords(options, typed, words) !== null;
}

function namesOf(o: AnswerableOption): string[] {
  return [...(o.allLabels ?? [o.label]), ...(o.synonyms ?? [])].map(normalizeText).filter(Boolean);
}

/** Options that answer yes (or no): `means` or id `yes`/`no`, a name that is a yes/no word, else a label that starts with one. */
function polarOptions<T extends AnswerableOption>(options: readonly T[], names: string[][], polarity: Set<string>): T[] {
  const id = polarity.has('co') || polarity.has('yes') ? 'yes' : 'no';
  const meant = options.filter((o) => o.means === id);
  if (meant.length > 0) return meant;
  const named = options.filter((o, i) => o.id === id || names[i]!.some((n) => polarity.has(n)));
  if (named.length > 0) return named;
  return options.filter((o) => (o.allLabels ?? [o.label]).some((l) => polarity.has(normalizeText(l).split(' ')[0]!)));
}

function onlyOne<T>(list: T[]): T | undefined {
  return list.length === 1 ? list[0] : undefined;
}

function containsWords(haystack: string, needle: string): boolean {
  return ` ${haystack} `.includes(` ${needle} `);
}
