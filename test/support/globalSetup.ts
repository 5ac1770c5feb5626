import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './freePort';

declare global {
  var __TEST_REDIS__: ChildProcess | undefined;
}

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

/**
 * Tests talk to a real Redis. With REDIS_URL set, that one is used; otherwise a private redis-server is started on
 * a free port (nothing saved to disk) and stopped after the run.
 */
export default async function globalSetup(): Promise<void> {
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
  await waitForPort(port, 10_000);
  process.env.TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
}
