import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../logger';
import { describeError } from '../../errors';
import type { ZaloCoordination } from './ZaloCoordination';
import { oauthErrorSchema, oauthTokenSchema } from './zaloSchemas';

/** An OA access token and the single-use refresh token that renews it. */
export interface TokenPair {
  accessToken: string;
  /** Null when only an access token was configured (it cannot be renewed). */
  refreshToken: string | null;
  /** When the access token expires (ms since epoch); null when unknown (a pair pasted from the console). */
  expiresAt: number | null;
  /** When the pair was obtained (ms since epoch). */
  obtainedAt: number;
  /**
   * Fingerprint of the environment's pair this one descends from. When the environment holds another pair (an
   * administrator pasted a new one), that one is newer than anything stored.
   */
  seed: string;
}

/**
 * Durable storage of the newest token pair. The refresh token is single-use: a pair that is lost after a refresh
 * cannot be recovered, so `save` must be durable before it resolves. The records database implements this too.
 */
export interface TokenStore {
  readonly kind: string;
  load(): Promise<TokenPair | null>;
  save(pair: TokenPair): Promise<void>;
}

/** The stored pair file is unreadable: the operator must look at it. */
export class TokenStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenStoreError';
  }
}

/**
 * A JSON file under DATA_DIR, written atomically (temporary file, fsync, rename, fsync of the folder), readable
 * only by the server's user. Processes on one machine (sharing DATA_DIR) share it.
 */
export class FileTokenStore implements TokenStore {
  readonly kind = 'file';

  constructor(readonly file: string) {}

  async load(): Promise<TokenPair | null> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new TokenStoreError(`Cannot read the stored Zalo tokens at ${this.file}: ${(err as Error).message}. Check the permissions of DATA_DIR.`);
    }
    try {
      const raw = JSON.parse(text) as Record<string, unknown>;
      if (raw.version !== 1 || typeof raw.accessToken !== 'string' || typeof raw.seed !== 'string') throw new Error('unexpected shape');
      return {
        accessToken: raw.accessToken,
        refreshToken: typeof raw.refreshToken === 'string' ? raw.refreshToken : null,
        expiresAt: typeof raw.expiresAt === 'string' ? Date.parse(raw.expiresAt) : null,
        obtainedAt: typeof raw.obtainedAt === 'string' ? Date.parse(raw.obtainedAt) : 0,
        seed: raw.seed,
      };
    } catch (err) {
      throw new TokenStoreError(
        `The stored Zalo tokens at ${this.file} are not readable (${(err as Error).message}). Move the file away and put a fresh pair in ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN (developers.zalo.me → Tools → API Explorer → OA Access Token).`,
      );
    }
  }

  async save(pair: TokenPair): Promise<void> {
    const dir = path.dirname(this.file);
    await fs.promises.mkdir(dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    const body = JSON.stringify(
      {
        version: 1,
        accessToken: pair.accessToken,
        refreshToken: pair.refreshToken,
        expiresAt: pair.expiresAt === null ? null : new Date(pair.expiresAt).toISOString(),
        obtainedAt: new Date(pair.obtainedAt).toISOString(),
        seed: pair.seed,
      },
      null,
      2,
    );
    const handle = await fs.promises.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.promises.rename(tmp, this.file);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      throw err;
    }
    // The rename itself is made durable by syncing the folder (not possible on every platform; best effort there).
    const dirHandle = await fs.promises.open(dir, 'r').catch(() => null);
    if (dirHandle) {
      await dirHandle.sync().catch(() => undefined);
      await dirHandle.close();
    }
  }
}

/** Zalo refused to renew the token, or the token cannot be renewed at all. The operator must act. */
export class ZaloTokenError extends Error {
  constructor(
    message: string,
    readonly code?: number | string,
  ) {
    super(message);
    this.name = 'ZaloTokenError';
  }
}

export interface OAuthSettings {
  oauthRoot: string;
  appId: string;
  appSecret: string | undefined;
  timeoutMs?: number;
}

const FRESH_PAIR_HOWTO =
  'Get a new pair in the Zalo developers console (developers.zalo.me → Tools → API Explorer → OA Access Token), put it in ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN, and restart.';

/** `POST /v4/oa/access_token` with `grant_type=refresh_token` and the app's `secret_key` header. */
export async function refreshZaloTokens(settings: OAuthSettings, refreshToken: string): Promise<{ accessToken: string; refreshToken: string; expiresInSeconds: number }> {
  if (!settings.appSecret) {
    throw new ZaloTokenError(`Cannot renew the Zalo access token: ZALO_APP_SECRET is not set. Copy the app's Secret Key from developers.zalo.me → your app → Settings into ZALO_APP_SECRET.`);
  }
  const url = `${settings.oauthRoot}/v4/oa/access_token`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', secret_key: settings.appSecret },
      body: new URLSearchParams({ refresh_token: refreshToken, app_id: settings.appId, grant_type: 'refresh_token' }).toString(),
      signal: AbortSignal.timeout(settings.timeoutMs ?? 15_000),
    });
  } catch (err) {
    throw new ZaloTokenError(`Cannot reach the Zalo OAuth server at ${settings.oauthRoot} to renew the access token (${describeError(err).message}). Check the network and ZALO_OAUTH_ROOT.`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ZaloTokenError(`The Zalo OAuth server answered HTTP ${res.status} with something that is not JSON while renewing the access token. Check ZALO_OAUTH_ROOT.`);
  }
  const ok = oauthTokenSchema.safeParse(body);
  if (ok.success) return { accessToken: ok.data.access_token, refreshToken: ok.data.refresh_token, expiresInSeconds: ok.data.expires_in };
  const err = oauthErrorSchema.safeParse(body);
  const code = err.success ? err.data.error : undefined;
  const why = err.success ? (err.data.error_description ?? err.data.error_name ?? err.data.message ?? 'no reason given') : 'unexpected answer';
  throw new ZaloTokenError(
    `Zalo refused to renew the OA access token (HTTP ${res.status}, error ${code ?? 'none'}: ${why}). The refresh token may have been used already or be older than 3 months, or ZALO_APP_ID / ZALO_APP_SECRET may be wrong. ${FRESH_PAIR_HOWTO}`,
    code,
  );
}

/** Fingerprint of the environment's pair (a one-way hash, never the token itself). */
export function seedFingerprint(accessToken: string | undefined, refreshToken: string | undefined): string {
  return crypto
    .createHash('sha256')
    .update(`${refreshToken ?? ''}\n${accessToken ?? ''}`)
    .digest('hex')
    .slice(0, 16);
}

export interface TokenManagerOptions {
  oauth: OAuthSettings;
  store: TokenStore;
  coordination: ZaloCoordination;
  log: Logger;
  /** The environment's pair: used only until a newer pair is stored. */
  initial: { accessToken: string | undefined; refreshToken: string | undefined };
  /** Renew this long before the access token expires. */
  refreshAheadMs: number;
  clock?: () => number;
  /** Re-read the store at most this often (another process may have renewed). */
  reloadEveryMs?: number;
}

const LOCK_NAME = 'token-refresh';
const LOCK_TTL_MS = 30_000;
const LOCK_WAIT_MS = 40_000;

/**
 * Hands out the OA access token and renews it: ahead of expiry, or when Zalo says it is invalid (-216/-220).
 * Renewal is single flight across every process (a shared lock, then a re-read of the store: whoever comes second
 * finds the new pair and does not spend the single-use refresh token again), and the new pair is stored durably
 * before its access token is used.
 */
export class ZaloTokenManager {
  private cached: TokenPair | null = null;
  private loadedAt = 0;
  private inFlight: Promise<TokenPair> | null = null;
  private readonly seed: string;
  private readonly clock: () => number;

  constructor(private readonly options: TokenManagerOptions) {
    this.seed = seedFingerprint(options.initial.accessToken, options.initial.refreshToken);
    this.clock = options.clock ?? Date.now;
  }

  /** The newest pair: the stored one, unless the environment holds another pair than the one it descends from. */
  private async loadCurrent(): Promise<TokenPair> {
    const stored = await this.options.store.load();
    this.loadedAt = this.clock();
    if (stored && stored.seed === this.seed) return stored;
    if (stored) this.options.log.info('zalo: ZALO_ACCESS_TOKEN / ZALO_REFRESH_TOKEN changed since the stored pair was saved; using the new pair from the environment');
    const { accessToken, refreshToken } = this.options.initial;
    if (!accessToken && !refreshToken) throw new ZaloTokenError(`No Zalo token is configured. ${FRESH_PAIR_HOWTO}`);
    // Without an access token the first call renews at once (an empty token is simply "invalid").
    return { accessToken: accessToken ?? '', refreshToken: refreshToken ?? null, expiresAt: accessToken ? null : 0, obtainedAt: 0, seed: this.seed };
  }

  private async current(): Promise<TokenPair> {
    if (!this.cached || this.clock() - this.loadedAt > (this.options.reloadEveryMs ?? 60_000)) this.cached = await this.loadCurrent();
    return this.cached;
  }

  private isDue(pair: TokenPair): boolean {
    return pair.expiresAt !== null && this.clock() >= pair.expiresAt - this.options.refreshAheadMs;
  }

  /** An access token to call the API with; renews first when the current one is about to expire. */
  async accessToken(): Promise<string> {
    const pair = await this.current();
    if (!this.isDue(pair)) return pair.accessToken;
    try {
      return (await this.refresh(pair.accessToken)).accessToken;
    } catch (err) {
      // Still valid for a while: keep working and try again on the next call.
      if (pair.expiresAt !== null && pair.expiresAt > this.clock() && pair.accessToken) {
        this.options.log.error({ err: describeError(err) }, 'zalo: could not renew the access token ahead of expiry; using the current one meanwhile');
        return pair.accessToken;
      }
      throw err;
    }
  }

  /** Renews when the pair is due or unknown-aged (a background check keeps the 3-month refresh token alive). */
  async refreshIfDue(): Promise<void> {
    const pair = await this.current();
    if (pair.expiresAt === null || this.isDue(pair)) await this.refresh(pair.accessToken);
  }

  /**
   * Renews because `rejected` was refused or is about to expire. Resolves with the pair to use, which may be one
   * another process stored meanwhile.
   */
  refresh(rejected: string): Promise<TokenPair> {
    // Single flight in this process; the lock makes it single flight across processes.
    this.inFlight ??= this.options.coordination
      .withLock(LOCK_NAME, LOCK_TTL_MS, LOCK_WAIT_MS, async () => {
        const latest = await this.loadCurrent();
        if (latest.accessToken !== rejected && latest.accessToken !== '' && !this.isDue(latest)) {
          this.cached = latest;
          return latest;
        }
        if (!latest.refreshToken) {
          throw new ZaloTokenError(`The Zalo access token was refused or has expired, and it cannot be renewed because ZALO_REFRESH_TOKEN is not set. ${FRESH_PAIR_HOWTO}`);
        }
        const renewed = await refreshZaloTokens(this.options.oauth, latest.refreshToken);
        const now = this.clock();
        const pair: TokenPair = {
          accessToken: renewed.accessToken,
          refreshToken: renewed.refreshToken,
          expiresAt: now + renewed.expiresInSeconds * 1000,
          obtainedAt: now,
          seed: this.seed,
        };
        // Durable before use: the old refresh token is spent, so this pair is the only way back in.
        await this.options.store.save(pair);
        this.cached = pair;
        this.loadedAt = now;
        this.options.log.info({ store: this.options.store.kind, expiresInSeconds: renewed.expiresInSeconds }, 'zalo: access token renewed and stored');
        return pair;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }
}
