/**
 * Characters no answer needs and that storage refuses: NUL (PostgreSQL text and jsonb cannot hold it), the other C0
 * controls except tab and line breaks, and UTF-16 surrogates without their pair (invalid Unicode: jsonb refuses
 * them). Removing them when the event arrives keeps a bad character from turning into a 5xx at the database insert
 * and a redelivery loop.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const HAS_UNSAFE = new RegExp(UNSAFE.source); // no `g`: test() keeps no state between calls

export function cleanText(text: string): string {
  return HAS_UNSAFE.test(text) ? text.replace(UNSAFE, '') : text;
}

/** `cleanText` over every string field of a flat event object (a new object only when something changed). */
export function cleanEventStrings<T extends object>(event: T): T {
  let copy: T | null = null;
  for (const [key, value] of Object.entries(event)) {
    if (typeof value !== 'string') continue;
    const clean = cleanText(value);
    if (clean !== value) (copy ??= { ...event })[key as keyof T] = clean as T[keyof T];
  }
  return copy ?? event;
}
