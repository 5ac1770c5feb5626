import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db/Database';
import { migrate } from '../../src/db/migrate';
import { freePort } from './freePort';
import { DEFAULT_TEST_POSTGRES_URL, preparePostgresTemplate, runDatabasePrefix } from './testPostgres';

declare global {
  var __TEST_REDIS__: ChildProcess | undefined;
}

const ROOT = path.resolve(__dirname, '..', '..');

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.write('PING\r\n');
        sock.once('data', (d) => {
          sock.destroy();
          resolve(d.toString().startsWith('+PONG'));
        });
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the private redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Builds `dist/` once, so that spawned servers start with plain node instead of compiling through tsx each time. */
function buildDist(): void {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', path.join('dist', '.tsbuildinfo')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`building dist/ for the process tests failed (npx tsc -p tsconfig.build.json):\n${result.stdout}${result.stderr}`);
}

/** Migrates one embedded database; spawned servers start on a copy of its folder instead of creating and migrating their own. */
async function preparePgliteTemplate(dir: string): Promise<void> {
  const db = await openDatabase({ dataDir: dir });
  try {
    await migrate(db, path.join(ROOT, 'migrations'));
  } finally {
    await db.close();
  }
}

/**
 * Prepares what every test file shares:
 * - a real Redis: REDIS_URL when set, otherwise a private redis-server on a free port (nothing saved to disk);
 * - `dist/` built once, and a migrated PGlite folder to copy (TEST_PGLITE_TEMPLATE), for the tests that spawn servers;
 * - when the PostgreSQL server answers (TEST_POSTGRES_URL, default the local one), a migrated template database
 *   (TEST_PG_TEMPLATE) from which each spawned server gets a private database (see `testPostgres.ts`);
 * - the run's process folder (TEST_PROCESS_DIR), where every spawned child's pid is listed for the global teardown.
 * A nested run (the clean-up test's own jest) passes TEST_REUSE_BUILD=1 and reuses the build and the template.
 */
export default async function globalSetup(): Promise<void> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cgb-run-'));
  process.env.TEST_RUN_DIR = runDir;
  process.env.TEST_PROCESS_DIR = path.join(runDir, 'processes');
  fs.mkdirSync(process.env.TEST_PROCESS_DIR);
  if (process.env.TEST_REUSE_BUILD !== '1' || !process.env.TEST_PGLITE_TEMPLATE) {
    buildDist();
    await preparePgliteTemplate(path.join(runDir, 'template'));
    // openDatabase keeps its files in <dataDir>/pglite.
    process.env.TEST_PGLITE_TEMPLATE = path.join(runDir, 'template', 'pglite');
  }
  if (process.env.TEST_REUSE_BUILD !== '1' || !process.env.TEST_PG_TEMPLATE) {
    const url = process.env.TEST_POSTGRES_URL ?? DEFAULT_TEST_POSTGRES_URL;
    const template = `${runDatabasePrefix(runDir)}_template`;
    if (await preparePostgresTemplate(url, template)) {
      process.env.TEST_POSTGRES_URL = url;
      process.env.TEST_PG_TEMPLATE = template;
    } else {
      delete process.env.TEST_PG_TEMPLATE;
    }
  }

  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server not found: install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL to a running Redis.');
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: 'ignore',
  });
  globalThis.__TEST_REDIS__ = child;
  await waitForPort(port, 30_000);
  process.env.TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
}
