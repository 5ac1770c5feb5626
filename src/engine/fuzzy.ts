/**
 * Small string-similarity helpers for matching what people type against known words, after `normalizeText`.
 */

/** Shortest word (in characters) in which one typo is tolerated; shorter Vietnamese syllables differ by one letter. */
export const MIN_TYPO_WORD_LENGTH = 5;

/**
 * True when `a` and `b` differ by at most one edit: one letter inserted, deleted, replaced, or two neighbours swapped
 * ("sinh" / "snih").
 */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // replaced
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // swapped
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** How well a typed word matches a known word: 1 exact, 0.7 one typo (long words only), 0 not at all. */
export function wordSimilarity(typed: string, known: string): number {
  if (typed === known) return 1;
  if (typed.length >= MIN_TYPO_WORD_LENGTH && known.length >= MIN_TYPO_WORD_LENGTH && withinOneEdit(typed, known)) return 0.7;
  return 0;
}
