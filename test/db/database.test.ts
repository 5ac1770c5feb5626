import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/Database';
import { DEFAULT_TEST_POSTGRES_URL } from '../support/testPostgres';

const URL = process.env.TEST_POSTGRES_URL ?? DEFAULT_TEST_POSTGRES_URL;
const SCHEMA = `db_test_${process.pid}`;

/**
 * PostgreSQL going away in the middle of a transaction (a restart, a crash, an administrator ending the backend):
 * the transaction fails like any other and the process carries on. A client checked out of the pool has no error
 * listener of the pool's, so without one of ours its 'error' event would end the whole process.
 */
describe('PostgreSQL database: a transaction whose connection is cut', () => {
  let db: Database | undefined;
  let admin: pg.Client | undefined;

  beforeAll(async () => {
    // Like the spawned servers' private databases, this needs the PostgreSQL server (CI has it); without one, say so.
    const probe = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
    try {
      await probe.connect();
    } catch {
      console.warn(`test/db/database.test.ts: no PostgreSQL at ${URL} (TEST_POSTGRES_URL): the cut-connection test did not run`);
      return;
    } finally {
      await probe.end().catch(() => undefined);
    }
    db = await openDatabase({ databaseUrl: URL, schema: SCHEMA, dataDir: null });
    admin = new pg.Client({ connectionString: URL });
    await admin.connect();
  });
  afterAll(async () => {
    await db?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin?.end();
  });

  it('fails with an error, the broken connection is not reused, and the next transaction works', async () => {
    if (!db || !admin) return;
    const other = admin;
    // Without a listener on the checked-out client, jest fails this file with "Unhandled error ... Connection terminated".
    const cut = db.transaction(async (tx) => {
      const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // The backend ends while the transaction waits between two statements: the client learns it as an event.
      await other.query('SELECT pg_terminate_backend($1)', [row!.pid]);
      await other.query('SELECT pg_sleep(0.2)');
      await tx.query('SELECT 1');
    });
    await expect(cut).rejects.toThrow();
    // More transactions than the pool has connections: none of them is handed the broken one.
    for (let i = 0; i < 12; i++) {
      const [row] = await db.transaction((tx) => tx.query<{ n: number }>('SELECT 1 AS n'));
      expect(row!.n).toBe(1);
    }
  });
});
