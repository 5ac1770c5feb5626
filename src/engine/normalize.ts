/**
 * Text normalisation for matching what people type: lower case, NFC, Vietnamese diacritics stripped, đ → d,
 * punctuation turned into spaces, runs of spaces collapsed. "Quay lại!" and "quay lai" both become "quay lai".
 */
export function normalizeText(input: string): string {
  return input
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}/]+/gu, ' ')
    .trim()
    .replace(/\s+/g, ' ');
}

/** Case, NFC and whitespace only; keeps diacritics. For storing what a person typed. */
export function cleanTypedText(input: string): string {
  return input.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/**
 * Reads a typed option number: "2", "2.", "số 2", "so 2", "#2", "(2)". Returns null when the text is not
 * a single number.
 */
export function parseOptionNumber(input: string): number | null {
  const n = normalizeText(input).replace(/^(so|chon|option|number|no)\s*/, '');
  if (!/^\d{1,3}$/.test(n)) return null;
  return Number(n);
}

/** Reads several option numbers for a multi-choice answer: "1 3", "1,3", "1, 3 và 5", "1-3" is not a range. */
export function parseOptionNumbers(input: string): number[] | null {
  const n = normalizeText(input).replace(/\b(va|and|so|chon)\b/g, ' ').trim();
  if (n === '' || !/^\d{1,3}(\s+\d{1,3})*$/.test(n)) return null;
  return [...new Set(n.split(/\s+/).map(Number))];
}
