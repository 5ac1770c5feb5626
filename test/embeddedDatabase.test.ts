import fs from 'node:fs';
import path from 'node:path';
import { DatabaseUnavailableError, openDatabase } from '../src/db/Database';
import { tempDir } from './support/harness';

/** What PostgreSQL inside PGlite runs with (src/db/Database.ts, PGLITE_OPTIONS), as `SHOW` prints it. */
const EMBEDDED_MEMORY_SETTINGS = { maintenance_work_mem: '16MB', max_connections: '4', shared_buffers: '16MB' };

/** This process's peak resident memory in MB (VmHWM), after resetting it when `reset` (Linux clear_refs 5). */
function peakRssMb(reset = false): number {
  if (reset) fs.writeFileSync('/proc/self/clear_refs', '5');
  return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
}

describe('the embedded database folder under DATA_DIR', () => {
  it('is created at the first start by a short-lived child process, so the server only opens it and its memory peak stays far below initdb’s', async () => {
    const dataDir = tempDir();
    const before = peakRssMb(true);
    const db = await openDatabase({ dataDir });
    try {
      expect(await db.query<{ x: number }>('SELECT 1 AS x')).toEqual([{ x: 1 }]);
      // initdb in this process raises the peak by 470-650 MB; opening a made folder by ~130 MB at most.
      expect(peakRssMb() - before).toBeLessThan(250);
      expect(fs.existsSync(path.join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);
      expect(fs.readdirSync(dataDir)).toEqual(['pglite']);
      await db.query('CREATE TABLE kept (x int)');
      await db.query('INSERT INTO kept VALUES (7)');
    } finally {
      await db.close();
    }
    const reopened = await openDatabase({ dataDir });
    try {
      expect(await reopened.query('SELECT x FROM kept')).toEqual([{ x: 7 }]);
      // The memory settings apply to a folder made before (they are written at every open, not only by initdb).
      const settings = await reopened.query<{ name: string; setting: string }>(
        "SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1) ORDER BY name",
        [Object.keys(EMBEDDED_MEMORY_SETTINGS)],
      );
      expect(Object.fromEntries(settings.map((r) => [r.name, r.setting]))).toEqual(EMBEDDED_MEMORY_SETTINGS);
    } finally {
      await reopened.close();
    }
  }, 120_000);

  it('replaces what an interrupted first start left half-made', async () => {
    const dataDir = tempDir();
    fs.mkdirSync(path.join(dataDir, 'pglite.creating', 'base'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'pglite.creating', 'base', 'partial'), 'x');
    fs.mkdirSync(path.join(dataDir, 'pglite'));
    const db = await openDatabase({ dataDir });
    try {
      expect(await db.query<{ x: number }>('SELECT 2 AS x')).toEqual([{ x: 2 }]);
      expect(fs.readdirSync(dataDir)).toEqual(['pglite']);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('names DATA_DIR and the fix when the folder cannot be made', async () => {
    const file = path.join(tempDir(), 'not-a-folder');
    fs.writeFileSync(file, '');
    const opening = openDatabase({ dataDir: file });
    await expect(opening).rejects.toThrow(DatabaseUnavailableError);
    await expect(opening).rejects.toThrow(/DATA_DIR: .*Point DATA_DIR at a writable folder/);
  });
});
