import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/db/Database';
import { migrate } from '../../src/db/migrate';

/**
 * Spawned test servers run on the PostgreSQL server when one answers (TEST_POSTGRES_URL, by default the local
 * `postgres://postgres@127.0.0.1:5432/test`): each server gets a private database, created from a template migrated
 * once by the global setup. Without a server they start on a copy of the migrated PGlite folder instead.
 */
export const DEFAULT_TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

const ROOT = path.resolve(__dirname, '..', '..');

/** The same server, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The prefix of the databases a test run creates (named after the run's folder), so that its teardown drops them. */
export function runDatabasePrefix(runDir: string): string {
  return `cgb_t_${path.basename(runDir).replace(/[^a-zA-Z0-9]/g, '').toLowerCase()}`;
}

/** Creates and migrates the run's template database; false when no server answers (nothing is created then). */
export async function preparePostgresTemplate(url: string, template: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    await admin.end().catch(() => undefined);
    return false;
  }
  try {
    await admin.query(`CREATE DATABASE "${template}"`);
  } finally {
    await admin.end();
  }
  const db = await openDatabase({ databaseUrl: withDatabase(url, template), dataDir: null });
  try {
    await migrate(db, path.join(ROOT, 'migrations'));
  } finally {
    await db.close();
  }
  return true;
}

/**
 * A private database for one spawned server, copied from the template (synchronously, so that spawning stays a
 * plain call): its DATABASE_URL.
 */
export function createPrivateDatabase(url: string, template: string, prefix: string): string {
  const name = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  const script =
    "const { Client } = require('pg'); const [url, name, template] = process.argv.slice(1); const c = new Client({ connectionString: url });" +
    ' c.connect().then(() => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`)).then(() => c.end(), (e) => { console.error(e.message); process.exit(1); });';
  execFileSync(process.execPath, ['-e', script, url, name, template], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  return withDatabase(url, name);
}

/** Drops the run's databases, its template included (servers still connected are cut off). */
export async function dropRunDatabases(url: string, prefix: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}\\_%`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
