import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import { TEST_PROCESS_MARK, trackProcess } from './cleanup';
import { createPrivateDatabase, runDatabasePrefix } from './testPostgres';

/** The entry point built once by the global setup (test/support/globalSetup.ts). */
export const BUILT_MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');

/** Spawns a process registered for clean-up: it is stopped after the test file even when a test fails. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions & { env: Record<string, string> }): ChildProcess {
  return trackProcess(spawn(command, args, { ...options, env: { ...options.env, [TEST_PROCESS_MARK]: process.env.TEST_PROCESS_DIR ?? '1' } }));
}

/**
 * Runs the real entry point (built `dist/main.js`) as its own process, with only the given environment. Unless
 * DATABASE_URL is given, its records go to a private database on the PostgreSQL server when one answered at the
 * global setup, else to a copy of the embedded database migrated once (`database: 'embedded'` always takes the
 * copy: a test of the no-configuration default).
 */
export function spawnServer(env: Record<string, string>, options: { database?: 'embedded' } = {}): ChildProcess {
  const pgTemplate = process.env.TEST_PG_TEMPLATE;
  const pgUrl = process.env.TEST_POSTGRES_URL;
  const runDir = process.env.TEST_RUN_DIR;
  let databaseEnv: Record<string, string> = {};
  if (!env.DATABASE_URL && options.database !== 'embedded' && pgTemplate && pgUrl && runDir) {
    databaseEnv = { DATABASE_URL: createPrivateDatabase(pgUrl, pgTemplate, runDatabasePrefix(runDir)) };
  } else {
    const template = process.env.TEST_PGLITE_TEMPLATE;
    if (template && env.DATA_DIR && !env.DATABASE_URL && !fs.existsSync(path.join(env.DATA_DIR, 'pglite'))) {
      fs.cpSync(template, path.join(env.DATA_DIR, 'pglite'), { recursive: true });
    }
  }
  return spawnTracked(process.execPath, [BUILT_MAIN], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', ...databaseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for the process to exit; resolves with its code and everything it printed. */
export function waitForExit(child: ChildProcess, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve({ code: child.exitCode, stdout, stderr });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Waits until the server logs that it listens; resolves with its base URL. */
export function waitForListening(child: ChildProcess, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stderr?.on('data', (d) => (err += d));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${err}`));
    });
  });
}

/** Stops the given server processes (SIGTERM) and waits for each to exit. */
export async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((c) => {
      const done = waitForExit(c).catch(() => undefined);
      c.kill('SIGTERM');
      return done;
    }),
  );
}
