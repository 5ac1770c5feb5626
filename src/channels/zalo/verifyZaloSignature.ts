import crypto from 'node:crypto';

/**
 * `X-ZEvent-Signature: mac=<hex>` where hex = SHA-256 (plain, not HMAC) of `id + raw body + timestamp + secret`,
 * `id` being the app id, `timestamp` the `timestamp` field of the body (official SDK: `MacUtils.buildMac`). The
 * digest is computed on the raw bytes exactly as received: re-serialising the JSON would change it.
 */
export function computeZaloMac(id: string, rawBody: Buffer, timestamp: string, secret: string): string {
  return crypto.createHash('sha256').update(id).update(rawBody).update(timestamp).update(secret).digest('hex');
}

/** Constant-time comparison of the header (with or without the `mac=` prefix) against the expected digest. */
export function verifyZaloSignature(header: string | undefined, id: string, rawBody: Buffer, timestamp: string, secret: string): boolean {
  if (!header) return false;
  const given = header.trim().replace(/^mac=/i, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(given)) return false;
  const expected = Buffer.from(computeZaloMac(id, rawBody, timestamp, secret), 'hex');
  return crypto.timingSafeEqual(Buffer.from(given, 'hex'), expected);
}
