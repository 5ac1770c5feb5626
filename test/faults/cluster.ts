import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/freePort';

/**
 * The pieces of a small production-like cluster on localhost, each started by the fault script itself and each
 * stopped when it ends or fails: a private redis-server (with an append-only file, as deployed), a private
 * PostgreSQL cluster (initdb + pg_ctl, as the `postgres` user when running as root), server processes built from
 * dist/, and a round-robin proxy in front of them.
 */

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every child and cleanup step, undone in reverse order on exit, failure or signal. */
const cleanups: Array<{ name: string; run: () => void }> = [];

export function onCleanup(name: string, run: () => void): () => void {
  const entry = { name, run };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** Synchronous, so that it also runs from process.on('exit'). */
export function cleanupAll(): void {
  for (const entry of cleanups.splice(0).reverse()) {
    try {
      entry.run();
    } catch (err) {
      process.stderr.write(`cleanup of ${entry.name} failed: ${(err as Error).message}\n`);
    }
  }
}

/** Polls `probe` until it resolves true; throws naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve(probe()).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(`temp folder ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function killHard(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      killHard(child);
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A private redis-server that writes every command to its append-only file before answering. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(dir: string): Promise<PrivateRedis> {
    if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server not found: install it (Debian/Ubuntu: apt-get install redis-server).');
    const redis = new PrivateRedis(await freePort(), dir);
    await redis.up();
    return redis;
  }

  async up(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--loglevel', 'warning'], {
      stdio: 'ignore',
    });
    this.child = child;
    const forget = onCleanup(`redis-server :${this.port}`, () => killHard(child));
    child.once('exit', forget);
    await waitUntil(`redis-server on port ${this.port}`, () => redisPing(this.port), 15_000, 50);
  }

  /** A crash: SIGKILL, no chance to save anything but what the append-only file already holds. */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child) return;
    killHard(child);
    await exited(child, 10_000);
    this.child = null;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    await exited(child, 10_000);
    this.child = null;
  }
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.setTimeout(1000, () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    sock.once('error', () => resolve(false));
  });
}

/** The PostgreSQL binaries (initdb, pg_ctl) of the newest version installed. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions[0]) return path.join(root, versions[0], 'bin');
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return path.dirname(which.stdout.trim());
  throw new Error('initdb not found: install PostgreSQL (Debian/Ubuntu: apt-get install postgresql); its binaries are looked for under /usr/lib/postgresql/<version>/bin.');
}

/**
 * A PostgreSQL cluster of our own in a temporary folder, on a free port: initdb, then pg_ctl start, restart and
 * stop. PostgreSQL refuses to run as root, so as root every command runs as the `postgres` user (runuser).
 */
export class PrivateCluster {
  private running = false;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly bin: string,
    private readonly asUser: string | null,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<PrivateCluster> {
    const bin = postgresBin();
    const asUser = process.getuid?.() === 0 ? 'postgres' : null;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cgb-faults-pg-'));
    onCleanup(`PostgreSQL folder ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
    if (asUser) spawnSync('chown', ['-R', `${asUser}:`, dir]);
    const cluster = new PrivateCluster(await freePort(), dir, bin, asUser);
    await cluster.run('initdb', ['-D', path.join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    onCleanup(`PostgreSQL :${cluster.port}`, () => cluster.stopNow());
    await cluster.start();
    return cluster;
  }

  private command(tool: string, args: string[]): [string, string[]] {
    const file = path.join(this.bin, tool);
    return this.asUser ? ['runuser', ['-u', this.asUser, '--', file, ...args]] : [file, args];
  }

  /** Asynchronous: the fake Bot API in this process keeps answering meanwhile. */
  private run(tool: string, args: string[]): Promise<void> {
    const [cmd, argv] = this.command(tool, args);
    return new Promise((resolve, reject) => {
      execFile(cmd, argv, { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${tool} ${args.join(' ')} failed (${err.message}): ${stderr || stdout}`));
        else resolve();
      });
    });
  }

  async start(): Promise<void> {
    // Unix sockets in our own folder (the shared server's /var/run/postgresql is left alone); TCP on 127.0.0.1 only.
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100 -c shared_buffers=32MB`;
    this.running = true;
    await this.run('pg_ctl', ['start', '-D', path.join(this.dir, 'data'), '-l', path.join(this.dir, 'log'), '-w', '-t', '60', '-o', options]);
  }

  /** Stops the server as a crash would (no checkpoint; WAL recovery on the next start). */
  async crash(): Promise<void> {
    await this.run('pg_ctl', ['stop', '-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', '-t', '60']);
    this.running = false;
  }

  /** Synchronous, for the exit handler. */
  private stopNow(): void {
    if (!this.running) return;
    this.running = false;
    const [cmd, argv] = this.command('pg_ctl', ['stop', '-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', '-t', '60']);
    spawnSync(cmd, argv, { timeout: 60_000 });
  }

  logTail(lines = 20): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** One server process: `node dist/main.js` on a fixed port, its logs in a file. */
export class ServerProcess {
  private child: ChildProcess | null = null;
  private constructor(
    readonly index: number,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly logFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  static async start(index: number, projectRoot: string, env: Record<string, string>, logDir: string): Promise<ServerProcess> {
    const server = new ServerProcess(index, await freePort(), env, path.join(logDir, `server-${index}.log`));
    await server.up(projectRoot);
    return server;
  }

  async up(projectRoot: string): Promise<void> {
    const out = fs.openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [path.join(projectRoot, 'dist', 'main.js')], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    this.child = child;
    const forget = onCleanup(`server ${this.index} (pid ${child.pid})`, () => killHard(child));
    child.once('exit', forget);
    await waitUntil(`server ${this.index} to answer /healthz on port ${this.port}`, async () => {
      if (!this.alive) throw new Error(`server ${this.index} exited: ${this.logTail()}`);
      return (await getStatus(`${this.url}/healthz`)) === 200;
    }, 60_000);
  }

  /** SIGKILL: the process gets no chance to finish anything. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    killHard(child);
    await exited(child, 10_000);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    await exited(child, 20_000);
  }

  logTail(lines = 15): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** GET, answering the status (0 when nothing answered). */
export async function getStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * The load balancer: each request goes to the next backend in turn; a backend that does not answer gets a 502,
 * as nginx answers for a POST it may not retry. The response names the backend (`x-backend`), so that the driver
 * can redeliver an update to another process.
 */
export async function startProxy(backends: () => ServerProcess[]): Promise<{ url: string; close(): Promise<void> }> {
  let next = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    const list = backends();
    const target = list[next++ % list.length]!;
    const upstream = http.request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, { ...up.headers, 'x-backend': String(target.index) });
      up.pipe(res);
    });
    upstream.setTimeout(30_000, () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json', 'x-backend': String(target.index) });
      res.end('{"error":"bad_gateway"}');
    });
    req.pipe(upstream);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  const close = () =>
    new Promise<void>((resolve) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  onCleanup('proxy', () => {
    agent.destroy();
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${port}`, close };
}
