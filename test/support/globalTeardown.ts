import fs from 'node:fs';
import { killListedProcesses } from './cleanup';
import { dropRunDatabases, runDatabasePrefix } from './testPostgres';

/** Kills whatever a test file left running (a worker that crashed or was killed), removes the run's folders, stops the private Redis. */
export default async function globalTeardown(): Promise<void> {
  const dir = process.env.TEST_PROCESS_DIR;
  if (dir) {
    const killed = killListedProcesses(dir);
    if (killed.length) process.stderr.write(`globalTeardown: killed ${killed.length} process(es) a test file left running: ${killed.join(', ')}\n`);
  }
  // The run's databases on the PostgreSQL server go with it (a nested run drops only its own).
  if (process.env.TEST_RUN_DIR && process.env.TEST_PG_TEMPLATE && process.env.TEST_POSTGRES_URL) {
    await dropRunDatabases(process.env.TEST_POSTGRES_URL, runDatabasePrefix(process.env.TEST_RUN_DIR)).catch((err: Error) =>
      process.stderr.write(`globalTeardown: could not drop the run's test databases: ${err.message}\n`),
    );
  }
  // Temporary folders of the run (data folders, copies of the database) go with it.
  if (process.env.TEST_RUN_DIR) fs.rmSync(process.env.TEST_RUN_DIR, { recursive: true, force: true });
  const child = globalThis.__TEST_REDIS__;
  if (!child) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(resolve, 3000).unref();
  });
}
