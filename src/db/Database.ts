import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
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
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
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
  let db: PGlite;
  if (options.dataDir) {
    const dir = path.join(options.dataDir, 'pglite');
    try {
      fs.mkdirSync(options.dataDir, { recursive: true });
    } catch (err) {
      throw new DatabaseUnavailableError(`DATA_DIR: cannot create ${options.dataDir} for the embedded database (${(err as Error).message}). Point DATA_DIR at a writable folder.`);
    }
    await createEmbeddedFolder(dir);
    db = new PGlite(dir, PGLITE_OPTIONS);
  } else {
    db = new PGlite(PGLITE_OPTIONS);
  }
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
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, temporary], { cwd: path.resolve(__dirname, '..', '..'), stdio: ['ignore', 'ignore', 'pipe'] });
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
 * PostgreSQL's 128 MB default of shared buffers lives in PGlite's WebAssembly memory, inside this process: 16 MB is
 * plenty for the records of one district (the files stay in the OS page cache) and keeps ~110 MB out of the RSS.
 */
const PGLITE_OPTIONS = { postgresqlconf: ['shared_buffers=16MB'] };

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
