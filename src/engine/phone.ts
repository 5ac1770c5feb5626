/**
 * A stored Vietnamese phone number (E.164, `+84912345678`) written as people write it: `0912 345 678`. Landlines
 * (`+842143...`) get the same grouping: `0214 3xx xxx`. Anything else is returned as it is.
 */
export function formatPhoneVN(value: string): string {
  const m = /^\+84(\d{9,10})$/.exec(value);
  if (!m) return value;
  const national = `0${m[1]}`;
  return `${national.slice(0, 4)} ${national.slice(4, 7)} ${national.slice(7)}`;
}
