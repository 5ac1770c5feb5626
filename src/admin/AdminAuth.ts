import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { jsonColumn, type Database } from '../db/Database';
import type { OfficialsScope } from '../records/officialsScope';

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;

/** Who is signed in to the dashboard and what they may see. */
export interface AdminIdentity {
  /** `telegram:<user id>` or `account:<username>`. */
  id: string;
  name: string;
  scope: OfficialsScope;
}

export interface AdminSession {
  identity: AdminIdentity;
  csrf: string;
  expiresAt: Date;
}

export const LOGIN_LINK_MINUTES = 10;
export const SESSION_HOURS = 12;
/** scrypt cost: N = 2^15 (about 32 MB, ~100 ms): slow for a guesser, fine for a sign-in. */
const SCRYPT = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

const hash = (secret: string) => crypto.createHash('sha256').update(secret).digest('hex');
const randomToken = () => crypto.randomBytes(32).toString('base64url');

/**
 * Sign-in for the dashboard: one-time links (sent after `/dangnhap` in an officials' group), password accounts for
 * officials without Telegram, and sessions. Only hashes of links and session ids are stored, in the records
 * database, so every process shares them and a database dump holds no usable secret.
 */
export class AdminAuth {
  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  private now(): Date {
    return new Date(this.clock());
  }

  /** A link token valid for `LOGIN_LINK_MINUTES`, usable once. */
  async issueLoginToken(identity: AdminIdentity): Promise<string> {
    const token = randomToken();
    const now = this.now();
    await this.db.query(`DELETE FROM admin_login_tokens WHERE expires_at < $1`, [now.toISOString()]);
    await this.db.query(`INSERT INTO admin_login_tokens (token_hash, identity, expires_at, created_at) VALUES ($1, $2::jsonb, $3, $4)`, [
      hash(token),
      JSON.stringify(identity),
      new Date(now.getTime() + LOGIN_LINK_MINUTES * 60_000).toISOString(),
      now.toISOString(),
    ]);
    return token;
  }

  /** Whether a link token can still be used (shown before the person confirms; uses nothing). */
  async checkLoginToken(token: string): Promise<'valid' | 'used' | 'expired' | 'unknown'> {
    const rows = await this.db.query<{ used_at: Date | null; expires_at: Date | string }>(`SELECT used_at, expires_at FROM admin_login_tokens WHERE token_hash = $1`, [hash(token)]);
    const row = rows[0];
    if (!row) return 'unknown';
    if (row.used_at) return 'used';
    return new Date(row.expires_at).getTime() <= this.clock() ? 'expired' : 'valid';
  }

  /** Uses a link token (once, across every process) and opens a session; null when it is unknown, used or expired. */
  async redeemLoginToken(token: string): Promise<{ sessionId: string; session: AdminSession } | null> {
    const now = this.now();
    const rows = await this.db.query<{ identity: AdminIdentity | string }>(
      `UPDATE admin_login_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING identity`,
      [hash(token), now.toISOString()],
    );
    if (!rows[0]) return null;
    const identity = jsonColumn<AdminIdentity>(rows[0].identity);
    return this.openSession(identity);
  }

  async openSession(identity: AdminIdentity): Promise<{ sessionId: string; session: AdminSession }> {
    const sessionId = randomToken();
    const now = this.now();
    const session: AdminSession = { identity, csrf: randomToken(), expiresAt: new Date(now.getTime() + SESSION_HOURS * 3600_000) };
    await this.db.query(`DELETE FROM admin_sessions WHERE expires_at < $1`, [now.toISOString()]);
    await this.db.query(`INSERT INTO admin_sessions (id_hash, identity, csrf, expires_at, created_at) VALUES ($1, $2::jsonb, $3, $4, $5)`, [
      hash(sessionId),
      JSON.stringify(identity),
      session.csrf,
      session.expiresAt.toISOString(),
      now.toISOString(),
    ]);
    return { sessionId, session };
  }

  async session(sessionId: string): Promise<AdminSession | null> {
    const rows = await this.db.query<{ identity: AdminIdentity | string; csrf: string; expires_at: Date | string }>(
      `SELECT identity, csrf, expires_at FROM admin_sessions WHERE id_hash = $1 AND expires_at > $2`,
      [hash(sessionId), this.now().toISOString()],
    );
    const r = rows[0];
    if (!r) return null;
    return { identity: jsonColumn<AdminIdentity>(r.identity), csrf: r.csrf, expiresAt: new Date(r.expires_at) };
  }

  async closeSession(sessionId: string): Promise<void> {
    await this.db.query(`DELETE FROM admin_sessions WHERE id_hash = $1`, [hash(sessionId)]);
  }

  // ---- password accounts ------------------------------------------------------------------------------------

  static async hashPassword(password: string): Promise<string> {
    const salt = crypto.randomBytes(16);
    const key = await scrypt(password, salt, 32, SCRYPT);
    return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  static async verifyPassword(password: string, stored: string): Promise<boolean> {
    const [kind, n, r, p, salt, key] = stored.split('$');
    if (kind !== 'scrypt' || !salt || !key) return false;
    const expected = Buffer.from(key, 'base64');
    const got = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
    return crypto.timingSafeEqual(got, expected);
  }

  /** Creates a password account; false when the user name is taken. */
  async createAccount(a: { username: string; name: string; scope: OfficialsScope; password: string; createdBy: string }): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO admin_accounts (username, name, role, commune, password_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (username) DO NOTHING RETURNING username`,
      [a.username, a.name, a.scope.kind, a.scope.kind === 'commune' ? a.scope.commune : null, await AdminAuth.hashPassword(a.password), a.createdBy, this.now().toISOString()],
    );
    return rows.length > 0;
  }

  async disableAccount(username: string): Promise<void> {
    await this.db.query(`UPDATE admin_accounts SET disabled_at = $2 WHERE username = $1 AND disabled_at IS NULL`, [username, this.now().toISOString()]);
    await this.db.query(`DELETE FROM admin_sessions WHERE identity->>'id' = $1`, [`account:${username}`]);
  }

  async accounts(): Promise<Array<{ username: string; name: string; scope: OfficialsScope; createdBy: string; createdAt: Date; disabled: boolean }>> {
    const rows = await this.db.query<{ username: string; name: string; role: 'district' | 'commune'; commune: string | null; created_by: string; created_at: Date | string; disabled_at: Date | null }>(
      `SELECT username, name, role, commune, created_by, created_at, disabled_at FROM admin_accounts ORDER BY username`,
    );
    return rows.map((r) => ({
      username: r.username,
      name: r.name,
      scope: r.role === 'district' ? { kind: 'district' as const } : { kind: 'commune' as const, commune: r.commune! },
      createdBy: r.created_by,
      createdAt: new Date(r.created_at),
      disabled: r.disabled_at !== null,
    }));
  }

  /** The identity of a password account, or null (unknown user, disabled, wrong password: the same answer). */
  async checkPassword(username: string, password: string): Promise<AdminIdentity | null> {
    const rows = await this.db.query<{ name: string; role: 'district' | 'commune'; commune: string | null; password_hash: string }>(
      `SELECT name, role, commune, password_hash FROM admin_accounts WHERE username = $1 AND disabled_at IS NULL`,
      [username],
    );
    const r = rows[0];
    // Hash even for an unknown user, so the answer takes as long either way.
    const ok = await AdminAuth.verifyPassword(password, r?.password_hash ?? DUMMY_HASH);
    if (!r || !ok) return null;
    return { id: `account:${username}`, name: r.name, scope: r.role === 'district' ? { kind: 'district' } : { kind: 'commune', commune: r.commune! } };
  }
}

const DUMMY_HASH = `scrypt$${SCRYPT.N}$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;

/** The audit log: every view of a personal record and every export, with who and when. */
export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Writes one entry; `who` is an official signed in to the dashboard, or one acting in a group or through the API. */
  async write(who: Pick<AdminIdentity, 'id' | 'name'>, action: string, subject: string, detail?: Record<string, unknown>): Promise<void> {
    await this.db.query(`INSERT INTO audit_log (at, actor, actor_name, action, subject, detail) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`, [
      new Date(this.clock()).toISOString(),
      who.id,
      who.name,
      action,
      subject,
      detail ? JSON.stringify(detail) : null,
    ]);
  }

  /** How many entries of an action on a subject since a time (e.g. failed sign-ins of one user name). */
  async count(action: string, subject: string, since: Date): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE action = $1 AND subject = $2 AND at >= $3`, [action, subject, since.toISOString()]);
    return Number(row?.n ?? 0);
  }

  async recent(limit = 200): Promise<Array<{ at: Date; actor: string; actorName: string; action: string; subject: string; detail: Record<string, unknown> | null }>> {
    const rows = await this.db.query<{ at: Date | string; actor: string; actor_name: string; action: string; subject: string; detail: Record<string, unknown> | string | null }>(
      `SELECT at, actor, actor_name, action, subject, detail FROM audit_log ORDER BY at DESC, id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ at: new Date(r.at), actor: r.actor, actorName: r.actor_name, action: r.action, subject: r.subject, detail: jsonColumn(r.detail) }));
  }
}
