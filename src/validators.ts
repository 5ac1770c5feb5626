import type { Validator } from './engine/contracts';
import { normalizeText } from './engine/normalize';

/**
 * Named checks of typed answers; flows name them (`"validator": "fullName"`). Each returns a value or the text key
 * of a short, friendly explanation; the engine then asks the question again.
 */

const MAX_FREE_TEXT = 1000;

const freeText: Validator = (raw) => {
  if (raw === '') return { ok: false, error: 'validation.empty' };
  if (raw.length > MAX_FREE_TEXT) return { ok: false, error: 'validation.tooLong', vars: { max: MAX_FREE_TEXT } };
  if (!/[\p{L}\p{N}]/u.test(raw)) return { ok: false, error: 'validation.noWords' };
  return { ok: true, value: raw };
};

const fullName: Validator = (raw) => {
  if (raw === '') return { ok: false, error: 'validation.empty' };
  if (raw.length > 80) return { ok: false, error: 'validation.nameTooLong', vars: { max: 80 } };
  if (/\d/.test(raw) || !/^[\p{L}\p{M}' .-]+$/u.test(raw)) return { ok: false, error: 'validation.nameLetters' };
  const words = raw.split(' ').filter(Boolean);
  if (words.length < 2) return { ok: false, error: 'validation.nameFull' };
  return { ok: true, value: words.map((w) => w.charAt(0).toLocaleUpperCase('vi') + w.slice(1)).join(' ') };
};

const birthYear: Validator = (raw, { now }) => {
  const year = Number(normalizeText(raw));
  const thisYear = new Date(now).getUTCFullYear();
  if (!/^\d{4}$/.test(normalizeText(raw))) return { ok: false, error: 'validation.year', vars: { max: thisYear } };
  if (year > thisYear) return { ok: false, error: 'validation.yearFuture', vars: { max: thisYear } };
  if (year < thisYear - 120) return { ok: false, error: 'validation.year', vars: { max: thisYear } };
  return { ok: true, value: year };
};

/**
 * Vietnamese phone numbers as people write them: `0912 345 678`, `0912.345.678`, `+84 912 345 678`, `84912345678`.
 * Stored in E.164 (`+84912345678`).
 */
export function parseVietnamesePhone(raw: string): string | null {
  const compact = raw.replace(/[\s.\-()]/g, '');
  let national: string;
  if (/^\+84\d+$/.test(compact)) national = compact.slice(3);
  else if (/^84\d{9,10}$/.test(compact)) national = compact.slice(2);
  else if (/^0\d+$/.test(compact)) national = compact.slice(1);
  else return null;
  // Mobile numbers have 9 digits after the 0 and start with 3, 5, 7, 8 or 9; landlines (2xx) have 9-10.
  if (/^[35789]\d{8}$/.test(national) || /^2\d{8,9}$/.test(national)) return `+84${national}`;
  return null;
}

const phoneVN: Validator = (raw) => {
  const phone = parseVietnamesePhone(raw);
  if (!phone) return { ok: false, error: 'validation.phone' };
  return { ok: true, value: phone };
};

/** Body temperature in °C, with a comma or a dot; `0` means "could not measure" and is stored as null. */
const temperature: Validator = (raw) => {
  const t = raw.replace(/\s|°c?|độ/gi, '').replace(',', '.');
  if (t === '0') return { ok: true, value: null };
  const n = Number(t);
  if (!/^\d{2}(\.\d)?$/.test(t) || n < 34 || n > 43) return { ok: false, error: 'validation.temperature' };
  return { ok: true, value: n };
};

const MAX_SEARCH = 200;

/** Words to search for: something with letters or digits, not a whole letter. */
const searchQuery: Validator = (raw) => {
  if (raw === '') return { ok: false, error: 'validation.searchEmpty' };
  if (!/[\p{L}\p{N}]/u.test(raw)) return { ok: false, error: 'validation.searchEmpty' };
  if (raw.length > MAX_SEARCH) return { ok: false, error: 'validation.searchTooLong', vars: { max: MAX_SEARCH } };
  return { ok: true, value: raw };
};

export const VALIDATORS: Record<string, Validator> = { freeText, fullName, birthYear, phoneVN, temperature, searchQuery };

/** Every text key a validator may answer with; start-up checks them in every locale. */
export const VALIDATOR_TEXT_KEYS = [
  'validation.empty',
  'validation.tooLong',
  'validation.noWords',
  'validation.nameTooLong',
  'validation.nameLetters',
  'validation.nameFull',
  'validation.year',
  'validation.yearFuture',
  'validation.phone',
  'validation.temperature',
  'validation.searchEmpty',
  'validation.searchTooLong',
];
