import { jsonColumn, type Database } from '../../db/Database';
import { TokenStoreError, type TokenPair, type TokenStore } from './ZaloTokens';

/**
 * The Zalo token pair in the records database: durable (the write commits before `save` resolves) and shared by
 * every process, wherever they run. Used whenever the records database is open.
 */
export class PgTokenStore implements TokenStore {
  readonly kind = 'database';

  constructor(private readonly db: Database) {}

  async load(): Promise<TokenPair | null> {
    const rows = await this.db.query<{ pair: TokenPair | string }>(`SELECT pair FROM channel_tokens WHERE channel = 'zalo'`);
    const raw = rows[0]?.pair;
    if (raw === undefined) return null;
    const pair = jsonColumn(raw) as Partial<TokenPair>;
    if (typeof pair.accessToken !== 'string' || typeof pair.seed !== 'string') {
      throw new TokenStoreError(
        "The stored Zalo tokens (table channel_tokens, channel 'zalo') are not readable. Delete that row and put a fresh pair in ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN.",
      );
    }
    return {
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken ?? null,
      expiresAt: pair.expiresAt ?? null,
      obtainedAt: pair.obtainedAt ?? 0,
      seed: pair.seed,
    };
  }

  async save(pair: TokenPair): Promise<void> {
    await this.db.query(
      `INSERT INTO channel_tokens (channel, pair, updated_at) VALUES ('zalo', $1::jsonb, now())
       ON CONFLICT (channel) DO UPDATE SET pair = EXCLUDED.pair, updated_at = now()`,
      [JSON.stringify(pair)],
    );
  }
}
