import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BENCH_TOKEN = '424242424:AAH-benchmark-token-abcdefghijklmnop';
export const BENCH_SECRET = 'bench-secret';
const ROOT = path.resolve(__dirname, '..');
const PEER_DIR = path.join(ROOT, 'bench', 'peer');

/** Options of a benchmarked server process. */
export interface BenchServerOptions {
  /** Runs the process on this one CPU core (through `taskset`) when the machine has more than one. */
  cpu?: number;
  extraEnv?: Record<string, string>;
}

/** The core a benchmarked server is pinned to (the last one), or undefined on a one-core machine or without taskset. */
export function serverCore(): number | undefined {
  const cores = os.cpus().length;
  if (cores < 2 || spawnSync('taskset', ['--version']).error) return undefined;
  return cores - 1;
}

/** Pins this process (the load generator) to the cores the servers do not use. */
export function pinSelfAwayFrom(core: number | undefined): void {
  if (core === undefined) return;
  spawnSync('taskset', ['-a', '-cp', `0-${core - 1}`, String(process.pid)], { stdio: 'ignore' });
}

function spawnPinned(args: string[], cwd: string, env: Record<string, string>, cpu: number | undefined): ChildProcess {
  const [command, argv] = cpu === undefined ? [process.execPath, args] : ['taskset', ['-c', String(cpu), process.execPath, ...args]];
  return spawn(command, argv, {
    cwd,
    env,
    stdio: ['ignore', process.env.BENCH_SERVER_LOG ? fs.openSync(`${process.env.BENCH_SERVER_LOG}.${path.basename(cwd)}`, 'w') : 'ignore', 'inherit'],
  });
}

/**
 * Starts the real server as its own process in Telegram webhook mode (Redis, `DATA_DIR`, the Bot API at `apiRoot`):
 * `dist/main.js` when built, else the sources through tsx. BENCH_CPU_PROF=<dir> profiles it; BENCH_SERVER_LOG=<file>
 * keeps its log. DATABASE_URL, when set, is passed on (records in PostgreSQL instead of PGlite), EMBEDDED_DB_CODE too, and
 * BENCH_NODE_OPTIONS as the server's NODE_OPTIONS.
 */
export async function startBenchServer(apiRoot: string, redisUrl: string, dataDir: string, extraEnv: Record<string, string> = {}, options: BenchServerOptions = {}): Promise<{ child: ChildProcess; url: string }> {
  const built = path.join(ROOT, 'dist', 'main.js');
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const args = fs.existsSync(built) ? [...prof, built] : ['--import', 'tsx', path.join(ROOT, 'src', 'main.ts')];
  const child = spawnPinned(
    args,
    ROOT,
    {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `bench${Date.now()}:`,
      DATA_DIR: dataDir,
      TELEGRAM_BOT_TOKEN: BENCH_TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
      TELEGRAM_WEBHOOK_SECRET: BENCH_SECRET,
      TELEGRAM_MODE: 'webhook',
      // Every simulated web chat comes from 127.0.0.1: the per-address limits would stop the benchmark, not a flood.
      WEB_REQUESTS_PER_MINUTE_PER_ADDRESS: '100000000',
      WEB_NEW_CHATS_PER_HOUR_PER_ADDRESS: '100000000',
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
      ...(process.env.EMBEDDED_DB_CODE ? { EMBEDDED_DB_CODE: process.env.EMBEDDED_DB_CODE } : {}),
      // e.g. BENCH_NODE_OPTIONS="--max-semi-space-size=4": V8 settings an operator may try on a small server.
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      ...extraEnv,
      ...options.extraEnv,
    },
    options.cpu,
  );
  return { child, url: await waitListening(child) };
}

/**
 * Starts the peer (bench/peer/bot.mjs, an idiomatic grammY bot) with the same Bot API, Redis and webhook secret;
 * installs its dependencies first (`npm ci --prefix bench/peer`) when they are missing.
 */
export async function startPeerServer(apiRoot: string, redisUrl: string, options: BenchServerOptions = {}): Promise<{ child: ChildProcess; url: string }> {
  if (!fs.existsSync(path.join(PEER_DIR, 'node_modules', 'grammy'))) {
    process.stderr.write('bench: installing the peer bot\'s dependencies (npm ci --prefix bench/peer)\n');
    const npm = spawnSync('npm', ['ci', '--prefix', PEER_DIR, '--no-audit', '--no-fund'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (npm.status !== 0) throw new Error('npm ci --prefix bench/peer failed: the peer bot cannot run (is the npm registry reachable?)');
  }
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawnPinned(
    [...prof, path.join(PEER_DIR, 'bot.mjs')],
    PEER_DIR,
    {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      BOT_TOKEN: BENCH_TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
      WEBHOOK_SECRET: BENCH_SECRET,
      ...options.extraEnv,
    },
    options.cpu,
  );
  return { child, url: await waitListening(child) };
}

/** Waits until the process listens (found through the kernel, since a quiet log hides the port) and returns its URL. */
async function waitListening(child: ChildProcess): Promise<string> {
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    const port = listeningPort(child.pid!);
    if (port) return `http://127.0.0.1:${port}`;
  }
  throw new Error('the server did not start listening');
}

function listeningPort(pid: number): number | null {
  let inodes: Set<string>;
  try {
    inodes = new Set(fs.readdirSync(`/proc/${pid}/fd`).map((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`)).filter((l) => l.startsWith('socket:[')).map((l) => l.slice(8, -1)));
  } catch {
    return null;
  }
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === '0A' && inodes.has(f[9]!)) return parseInt(f[1]!.split(':')[1]!, 16);
  }
  return null;
}
