import crypto from 'node:crypto';
import type { Validator } from '../engine/contracts';
import { normalizeText } from '../engine/normalize';

/**
 * Venue codes: 8 random characters from an alphabet without look-alikes (no 0/O, 1/I/L), so they can be read off a
 * poster and typed. 31^8 ≈ 8.5 × 10^11 codes for a few thousand venues: a guessed code finds nothing.
 */
export const VENUE_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const VENUE_CODE_LENGTH = 8;
const CODE_IN_TEXT = new RegExp(`(?:^|[^A-Z0-9])([${VENUE_CODE_ALPHABET}]{${VENUE_CODE_LENGTH}})(?=$|[^A-Z0-9])`, 'g');

export function generateVenueCode(): string {
  const bytes = crypto.randomBytes(VENUE_CODE_LENGTH * 2);
  let code = '';
  for (let i = 0; code.length < VENUE_CODE_LENGTH; i++) {
    // Rejection sampling: 248 = 8 × 31, so every character is equally likely.
    const b = i < bytes.length ? bytes[i]! : crypto.randomBytes(1)[0]!;
    if (b < 248) code += VENUE_CODE_ALPHABET[b % VENUE_CODE_ALPHABET.length];
  }
  return code;
}

/** The venue code in a typed message or a link ("vao K7M3QX9A", "k7m3-qx9a" is not one), or null. */
export function findVenueCode(text: string): string | null {
  const upper = text.toUpperCase();
  let last: string | null = null;
  for (const m of upper.matchAll(CODE_IN_TEXT)) last = m[1]!;
  return last;
}

/** `venueCode`: a message that carries a venue code. */
export const venueCode: Validator = (raw) => {
  const code = findVenueCode(raw);
  return code ? { ok: true, value: code } : { ok: false, error: 'venues.codeMissing' };
};

/** `venueName`: the name on the sign, 2 to 120 characters with letters. */
export const venueName: Validator = (raw) => {
  if (raw.length < 2 || !/\p{L}/u.test(raw)) return { ok: false, error: 'venues.nameInvalid' };
  if (raw.length > 120) return { ok: false, error: 'validation.tooLong', vars: { max: 120 } };
  return { ok: true, value: raw };
};

/** `venueAddress`: village and house number or street, 3 to 200 characters. */
export const venueAddress: Validator = (raw) => {
  if (raw.length < 3 || !/\p{L}/u.test(raw)) return { ok: false, error: 'venues.addressInvalid' };
  if (raw.length > 200) return { ok: false, error: 'validation.tooLong', vars: { max: 200 } };
  return { ok: true, value: raw };
};

/** `plateVN`: a Vietnamese plate number such as 24B-012.34 or 24B01234; stored upper case without spaces. */
export const plateVN: Validator = (raw) => {
  const compact = raw.toUpperCase().replace(/[\s.]/g, '');
  if (!/^\d{2}[A-Z]{1,2}\d?-?\d{4,5}$/.test(compact)) return { ok: false, error: 'venues.plateInvalid' };
  return { ok: true, value: compact };
};

export const VENUE_VALIDATORS: Record<string, Validator> = { venueCode, venueName, venueAddress, plateVN };
export const VENUE_VALIDATOR_TEXT_KEYS = ['venues.codeMissing', 'venues.nameInvalid', 'venues.addressInvalid', 'venues.plateInvalid'];

/** One place, however its name and address are typed: no case, diacritics or punctuation. */
export function placeKey(name: string, address: string): string {
  return `${normalizeText(name)}|${normalizeText(address)}`;
}
