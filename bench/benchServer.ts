import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const BENCH_TOKEN = '424242424:AAH-benchmark-token-abcdefghijklmnop';
export const BENCH_SECRET = 'bench-secret';
const ROOT = path.resolve(__dirname, '..');

/**
 * Starts the real server as its own process in Telegram webhook mode (Redis, `DATA_DIR`, the Bot API at `apiRoot`):
 * `dist/main.js` when built, else the sources through tsx. BENCH_CPU_PROF=<dir> profiles it; BENCH_SERVER_LOG=<file>
 * keeps its log.
 */
export async function startBenchServer(apiRoot: string, redisUrl: string, dataDir: string, extraEnv: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const built = path.join(ROOT, 'dist', 'main.js');
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const args = fs.existsSync(built) ? [...prof, built] : ['--import', 'tsx', path.join(ROOT, 'src', 'main.ts')];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
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
      ...extraEnv,
    },
    stdio: ['ignore', process.env.BENCH_SERVER_LOG ? fs.openSync(process.env.BENCH_SERVER_LOG, 'w') : 'ignore', 'inherit'],
  });
  // LOG_LEVEL=warn hides the "listening" line: find the port from the kernel instead.
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    const port = listeningPort(child.pid!);
    if (port) return { child, url: `http://127.0.0.1:${port}` };
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
