import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { tempDir, testRedisUrl } from './support/harness';
import { spawnTracked, waitForExit } from './support/processes';

/** True while the process exists and is not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('the test run itself', () => {
  it('stops every process a test file spawned, even when its tests fail or time out, and then ends', async () => {
    const log = path.join(tempDir(), 'pids.txt');
    fs.writeFileSync(log, '');
    const config = {
      rootDir: PROJECT_ROOT,
      roots: ['<rootDir>/test/fixtures/survivors'],
      testMatch: ['**/*.fixture.ts'],
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
      globalSetup: '<rootDir>/test/support/globalSetup.ts',
      globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/afterEachFile.ts'],
      testTimeout: 60000,
    };
    const jest = spawnTracked(
      process.execPath,
      ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', path.join(PROJECT_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--config', JSON.stringify(config)],
      {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SURVIVOR_LOG: log, TEST_REUSE_BUILD: '1', TEST_PGLITE_TEMPLATE: process.env.TEST_PGLITE_TEMPLATE ?? '', REDIS_URL: testRedisUrl() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // If the nested run never ended, this would give up and fail the test.
    const { code, stderr } = await waitForExit(jest, 150_000);
    expect(stderr).toContain('stopped by this test');
    expect(stderr).toContain('Exceeded timeout of 1000 ms');
    expect(stderr).toMatch(/Tests:\s+2 failed, 2 total/);
    expect(code).toBe(1);
    const pids = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map(Number);
    expect(pids).toHaveLength(2);
    expect(pids.filter(isRunning)).toEqual([]);
  }, 180_000);
});
