import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * One registry of everything a test file starts: child processes and servers (in-process servers, fake platform
 * APIs). `stopEverything` runs after every test file (test/support/afterEachFile.ts), also when a test failed or timed
 * out; each child's pid is also written to the run's process folder (TEST_PROCESS_DIR, made by the global setup), so
 * that the global teardown kills what a crashed or killed worker left behind.
 */
const children = new Set<ChildProcess>();
const closers = new Set<() => Promise<void>>();

/** Marks processes of this test run, so that the global teardown never kills an unrelated process that reused a pid. */
export const TEST_PROCESS_MARK = 'CGB_TEST_RUN';

function pidFile(pid: number): string | null {
  const dir = process.env.TEST_PROCESS_DIR;
  return dir ? path.join(dir, String(pid)) : null;
}

/** Registers a spawned child: it is killed after the test file, or at the latest by the global teardown. */
export function trackProcess<C extends ChildProcess>(child: C): C {
  children.add(child);
  const file = child.pid ? pidFile(child.pid) : null;
  if (file) fs.writeFileSync(file, '');
  child.once('exit', () => {
    children.delete(child);
    if (file) fs.rmSync(file, { force: true });
  });
  return child;
}

/** Registers something to close after the test file; returns the same `close`, made safe to call twice. */
export function trackServer(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | null = null;
  const once = () => {
    closing ??= close().finally(() => closers.delete(once));
    return closing;
  };
  closers.add(once);
  return once;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Stops every registered child (SIGTERM, then SIGKILL when it does not exit soon) and closes every server. */
export async function stopEverything(graceMs = 5000): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      if (exited(child)) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    }),
  );
  const results = await Promise.allSettled([...closers].map((close) => close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

// A worker that ends abruptly (jest gives up on it) still takes its children with it.
process.once('exit', () => {
  for (const child of children) if (!exited(child)) child.kill('SIGKILL');
});

/** Kills every process listed in the run's process folder that is still alive and marked as ours (global teardown). */
export function killListedProcesses(dir: string): number[] {
  const killed: number[] = [];
  if (!fs.existsSync(dir)) return killed;
  for (const name of fs.readdirSync(dir)) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    let environ = '';
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // gone already (or not Linux: then the pid file is all we know, and we do not guess)
    }
    if (!environ.includes(`${TEST_PROCESS_MARK}=`)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // exited between the check and the kill
    }
  }
  return killed;
}
