import path from 'node:path';
import { PgTokenStore } from '../channels/zalo/PgTokenStore';
import { ZALO_TOKEN_FILE } from '../channels/zalo/zaloChannel';
import { FileTokenStore } from '../channels/zalo/ZaloTokens';
import type { Config } from '../config';
import type { Database } from '../db/Database';
import type { TokenDates } from './Metrics';

/**
 * Reads the dates of the stored Zalo token pair, from where the Zalo channel keeps it (the database with a
 * PostgreSQL server, else the file under DATA_DIR; see `createChannels`). Undefined when the Zalo channel is off.
 */
export function zaloTokenDates(config: Pick<Config, 'zalo' | 'databaseUrl' | 'dataDir'>, db: Database): (() => Promise<TokenDates | null>) | undefined {
  if (!config.zalo) return undefined;
  const store = config.databaseUrl ? new PgTokenStore(db) : new FileTokenStore(path.join(config.dataDir, ZALO_TOKEN_FILE));
  return async () => {
    const pair = await store.load();
    return pair ? { obtainedAt: pair.obtainedAt, expiresAt: pair.expiresAt } : null;
  };
}
