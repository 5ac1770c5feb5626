import fs from 'node:fs';
import path from 'node:path';
import { createLogger } from '../src/logger';
import { createRuntime } from '../src/runtime';
import { testConfig } from './support/harness';

function modes(dir: string): Array<[string, number]> {
  const out: Array<[string, number]> = [[dir, fs.statSync(dir).mode & 0o777]];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...modes(full));
    else out.push([full, fs.statSync(full).mode & 0o777]);
  }
  return out;
}

describe('files on disk', () => {
  it('DATA_DIR and everything under it (the embedded database, the server secret) are readable by the server user only, whatever the umask', async () => {
    const previous = process.umask(0o022);
    const config = testConfig();
    // An older install left a file readable by everyone.
    fs.writeFileSync(path.join(config.dataDir, 'left-over.json'), '{}', { mode: 0o644 });
    fs.chmodSync(config.dataDir, 0o755);
    const wide = () =>
      modes(config.dataDir)
        .filter(([, mode]) => mode & 0o077)
        .map(([file, mode]) => `${path.relative(config.dataDir, file) || '.'}: ${mode.toString(8)}`);
    const runtime = await createRuntime(config, createLogger('silent'), { backgroundJobs: false });
    try {
      expect(modes(config.dataDir).length).toBeGreaterThan(10);
      expect(wide()).toEqual([]);
      await runtime.db.query('CREATE TABLE written_after_start (x int)');
      await runtime.db.query('INSERT INTO written_after_start VALUES (1)');
      // Folders stay closed to everyone else while the server runs.
      expect(modes(config.dataDir).filter(([file, mode]) => fs.statSync(file).isDirectory() && mode & 0o077)).toEqual([]);
    } finally {
      await runtime.close();
      process.umask(previous);
    }
    expect(wide()).toEqual([]);
  }, 60_000);
});
