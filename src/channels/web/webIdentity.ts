import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import type { RequestCounter } from '../../safety/RequestLimits';
import type { ServerSecret } from '../../safety/serverSecret';

/** Name of the cookie that carries a web chat's identity. */
export const WEB_IDENTITY_COOKIE = 'cgb_chat';

export interface WebLimits {
  /** Requests a minute from one client address (many people may share one address behind a carrier's NAT). */
  perAddressPerMinute: number;
  /** Requests a minute of one identity. */
  perIdentityPerMinute: number;
  /** New identities an hour from one client address. */
  newIdentitiesPerAddressPerHour: number;
}

export type IdentityOutcome = { ok: true; userId: string; issued: boolean } | { ok: false; retryAfterMs: number };

/**
 * The web chat's identity, issued by the server: a random id in a signed cookie (`HttpOnly`, `SameSite=Lax`,
 * `Secure` over https), never chosen by the client. Requests are counted per client address and per identity
 * (shared by every process through Redis); a client that asks for new identities in a loop gets 429s.
 */
export class WebIdentity {
  constructor(
    private readonly secret: ServerSecret,
    private readonly counter: RequestCounter,
    private readonly limits: WebLimits,
    private readonly maxAgeSeconds: number,
  ) {}

  private sign(id: string): string {
    return `${id}.${this.secret.mac('web-identity', id)}`;
  }

  /** The identity in the request's cookie when its signature holds; null otherwise. */
  read(req: Request): string | null {
    const raw = cookieValue(req.headers.cookie, WEB_IDENTITY_COOKIE);
    if (!raw) return null;
    const dot = raw.indexOf('.');
    if (dot <= 0) return null;
    const id = raw.slice(0, dot);
    if (!/^[A-Za-z0-9_-]{22,64}$/.test(id)) return null;
    const expected = Buffer.from(this.sign(id));
    const given = Buffer.from(raw);
    return expected.length === given.length && crypto.timingSafeEqual(expected, given) ? id : null;
  }

  /** Ends the identity on this device (after "delete my data", or "clear this chat" on a shared phone). */
  end(req: Request, res: Response): void {
    res.clearCookie(WEB_IDENTITY_COOKIE, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' });
  }

  /**
   * A keyed hash standing for a chat where its id must not be kept (the owner of a photo, which may belong to an
   * anonymous report). Derived from the identity key with a prefix no identity can have (ids hold no `:`).
   */
  ownerHash(userId: string): string {
    return this.secret.mac('web-identity', `owner:${userId}`);
  }

  /** Counts the request against the client address; false with the wait when over the limit. */
  async admitAddress(req: Request): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
    const hit = await this.counter.hit(`web-ip:${clientAddress(req)}`, this.limits.perAddressPerMinute, 60_000);
    return hit.allowed ? { ok: true } : { ok: false, retryAfterMs: hit.retryAfterMs };
  }

  /**
   * The request's identity, or a new one (set in the response's cookie) when it has none; counted per identity, and
   * new identities per client address.
   */
  async identify(req: Request, res: Response): Promise<IdentityOutcome> {
    let id = this.read(req);
    let issued = false;
    if (!id) {
      const hit = await this.counter.hit(`web-new:${clientAddress(req)}`, this.limits.newIdentitiesPerAddressPerHour, 3_600_000);
      if (!hit.allowed) return { ok: false, retryAfterMs: hit.retryAfterMs };
      id = crypto.randomBytes(18).toString('base64url');
      issued = true;
      res.cookie(WEB_IDENTITY_COOKIE, this.sign(id), { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/', maxAge: this.maxAgeSeconds * 1000 });
    }
    const hit = await this.counter.hit(`web-id:${id}`, this.limits.perIdentityPerMinute, 60_000);
    if (!hit.allowed) return { ok: false, retryAfterMs: hit.retryAfterMs };
    return { ok: true, userId: id, issued };
  }
}

/** The client's address: Express's `req.ip` (the proxy's X-Forwarded-For only from a trusted proxy). */
function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header || header.length > 8192) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
