import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { OperatorError } from '../errors';

/** Something SQL can be run on: the database, or one transaction of it. Parameters are `$1`, `$2`, ... */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

/**
 * A `jsonb` column's value: `pg` and PGlite hand it over parsed, but a value that went through a text cast or an older
 * driver arrives as its JSON text; both read the same.
 */
export function jsonColumn<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

/**
 * The records database: PostgreSQL through `pg` when DATABASE_URL is set, otherwise PGlite (a real PostgreSQL
 * engine embedded in the process) under DATA_DIR. The same SQL and migrations run on both.
 */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The records database could not be opened; the message names the variable to fix. */
export class DatabaseUnavailableError extends OperatorError {
  constructor(message: string) {
    super(message);
  }
}

class PgDatabase implements Database {
  readonly kind = 'postgres' as const;
  constructor(private readonly pool: pg.Pool) {}

  async query<R>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query(sql, params)).rows as R[];
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client has no listener of the pool's: when PostgreSQL goes away mid-transaction, the client emits
    // 'error' (besides rejecting the query under way), and an 'error' event nobody listens to ends the process. The
    // broken client is then dropped instead of going back to the pool.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const tx: Queryable = { query: async <R>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as R[] };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (!broken) await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  constructor(private readonly db: PGlite) {}

  async query<R>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.db.query<R>(sql, params)).rows;
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) => fn({ query: async <R>(sql: string, params: unknown[] = []) => (await t.query<R>(sql, params)).rows }));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  /** Folder for the embedded database; null keeps it in memory (tests). */
  dataDir: string | null;
  /** PostgreSQL schema to use (tests isolate themselves with one each); created when missing. */
  schema?: string;
  /** EMBEDDED_DB_CODE: `small` (the default) runs PGlite on V8's baseline code only; `fast` lets V8 optimize it too. */
  embeddedCode?: 'small' | 'fast';
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    // Loaded only here: a server on the embedded database never needs the driver (~7 MB resident).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
    const { Pool } = require('pg') as typeof pg;
    const pool = new Pool({
      connectionString: options.databaseUrl,
      max: 10,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    pool.on('error', () => undefined); // idle-client errors surface on the next query
    try {
      if (options.schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      const where = safeUrl(options.databaseUrl);
      throw new DatabaseUnavailableError(
        `DATABASE_URL: cannot reach PostgreSQL at ${where} (${(err as Error).message}). Start PostgreSQL there, fix DATABASE_URL, or leave it empty to use the embedded database under DATA_DIR.`,
      );
    }
    return new PgDatabase(pool);
  }
  let dir: string | null = null;
  if (options.dataDir) {
    dir = path.join(options.dataDir, 'pglite');
    try {
      fs.mkdirSync(options.dataDir, { recursive: true });
    } catch (err) {
      throw new DatabaseUnavailableError(`DATA_DIR: cannot create ${options.dataDir} for the embedded database (${(err as Error).message}). Point DATA_DIR at a writable folder.`);
    }
    await createEmbeddedFolder(dir);
  }
  if (options.embeddedCode !== 'fast') v8.setFlagsFromString(PGLITE_V8_FLAGS);
  const db = dir ? new PGlite(dir, PGLITE_OPTIONS) : new PGlite(PGLITE_OPTIONS);
  await db.waitReady;
  return new PgliteDatabase(db);
}

/*
 * Creating a PostgreSQL data folder (initdb) in PGlite peaks at ~800 MB and the process keeps most of that memory,
 * while opening an existing folder needs ~130 MB. So a new folder is created by a short-lived child process (once,
 * at the first start on a DATA_DIR) and this process only ever opens one. The child writes to a temporary folder
 * renamed into place when complete, so that a start-up interrupted halfway leaves no half-made database behind.
 */
async function createEmbeddedFolder(dir: string): Promise<void> {
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return;
  // A folder that exists without PG_VERSION and is not empty is not ours to replace: PGlite reports on it.
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) return;
  const temporary = `${dir}.creating`;
  fs.rmSync(temporary, { recursive: true, force: true });
  const script = `import { PGlite } from '@electric-sql/pglite';
const db = new PGlite(process.argv[1], ${JSON.stringify(PGLITE_OPTIONS)});
await db.waitReady;
await db.close();`;
  const failure = await new Promise<string | null>((resolve) => {
    // Baseline code only here too, whatever EMBEDDED_DB_CODE says: initdb is one-off work, done sooner that way (2.3
    // instead of 3.9 s of CPU) and with a lower peak (653 instead of 770 MB).
    const child = spawn(process.execPath, [PGLITE_V8_FLAGS, '--input-type=module', '-e', script, temporary], { cwd: path.resolve(__dirname, '..', '..'), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve(err.message));
    child.on('exit', (code, signal) => resolve(code === 0 ? null : `exit ${signal ?? code}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`));
  });
  if (failure !== null || !fs.existsSync(path.join(temporary, 'PG_VERSION'))) {
    fs.rmSync(temporary, { recursive: true, force: true });
    throw new DatabaseUnavailableError(
      `DATA_DIR: could not create the embedded database in ${dir} (${failure ?? 'no PG_VERSION written'}). Check that DATA_DIR is writable and has ~50 MB free, or set DATABASE_URL to use a PostgreSQL server.`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(temporary, dir);
}

/*
 * PostgreSQL's memory inside PGlite: all of it lives in PGlite's WebAssembly memory, in this process, and a page once
 * touched stays resident (that memory never shrinks). PGlite writes these lines as the folder's postgresql.conf at
 * every open, so they apply to folders made before too. Measured with bench/pgliteMemory.mjs (resident WebAssembly
 * memory after opening a migrated folder):
 * - shared_buffers=16MB instead of PostgreSQL's 128 MB keeps ~110 MB out of the RSS; 16 MB is plenty for the records
 *   of one district, whose files stay in the OS page cache (8 MB would save 8 MB more, for more reads).
 * - max_connections=4 and no reserved connections, WAL senders or replication slots: PGlite runs PostgreSQL in
 *   single-user mode, one backend, but the lock and process tables are sized for 100 connections: 29 -> 25 MB.
 *   (The migrations, all in one transaction, fit in the smaller lock table.)
 * - maintenance_work_mem=16MB (64 MB by default) bounds what an index build in a future migration may touch once and
 *   keep for the life of the process.
 */
export const PGLITE_OPTIONS = {
  postgresqlconf: [
    'shared_buffers=16MB',
    'max_connections=4',
    'superuser_reserved_connections=0',
    'reserved_connections=0',
    'max_wal_senders=0',
    'max_replication_slots=0',
    'autovacuum_worker_slots=1',
    'maintenance_work_mem=16MB',
  ],
};

/*
 * V8 runs PGlite's PostgreSQL (9 MB of WebAssembly) with its baseline compiler (Liftoff), then recompiles the functions
 * that run most with its optimizing one (TurboFan), in the background. The optimized code and its compilation keep
 * 45-70 MB resident (bench/pgliteMemory.mjs: 47 MB after opening, 62 MB after 2,000 transactions; the server at
 * 1,000 x 100, back to back: idle 304 -> 235 MB, peak 432 -> 369 MB), and the CPU they save did not show in that
 * benchmark (1.58 ms per update with them, 1.46 without, on a loaded machine: the background compilation costs CPU
 * too). Baseline code only is the default (EMBEDDED_DB_CODE=small); set before PGlite compiles its module, and V8
 * reads it for WebAssembly only.
 */
export const PGLITE_V8_FLAGS = '--liftoff-only';

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
