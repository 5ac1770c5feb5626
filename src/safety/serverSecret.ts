import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { OperatorError } from '../errors';

/** The file under DATA_DIR that keeps the generated server secret (when SERVER_SECRET is not set). */
export const SERVER_SECRET_FILE = 'server-secret';

/** Purposes a key is derived for: one key each, so that a key leaked from one use says nothing of the others. */
export type SecretPurpose = 'log-tag' | 'anonymous-reporter' | 'web-identity' | 'fingerprint';

/**
 * The server's secret, and the keys derived from it. It signs the web chat's identity cookie, keys the hash that
 * stands for an anonymous reporter, and keys the user tags in the logs: none of them can be reversed by trying every
 * id without it. Every process of one deployment must use the same secret.
 */
export class ServerSecret {
  private readonly keys = new Map<SecretPurpose, Buffer>();

  constructor(private readonly secret: Buffer) {}

  key(purpose: SecretPurpose): Buffer {
    let key = this.keys.get(purpose);
    if (!key) this.keys.set(purpose, (key = crypto.createHmac('sha256', this.secret).update(`cgb:${purpose}`).digest()));
    return key;
  }

  /** HMAC-SHA256 of `value` under the key of `purpose`, as base64url. */
  mac(purpose: SecretPurpose, value: string): string {
    return crypto.createHmac('sha256', this.key(purpose)).update(value).digest('base64url');
  }
}

/**
 * `SERVER_SECRET` when set; otherwise the secret kept in `DATA_DIR/server-secret`, generated (32 random bytes, file
 * mode 0600) at the first start. Processes on one machine share it through DATA_DIR; processes on several machines
 * must be given the same SERVER_SECRET.
 */
export function loadServerSecret(configured: string | undefined, dataDir: string): ServerSecret {
  if (configured) return new ServerSecret(Buffer.from(configured, 'utf8'));
  secureDataDir(dataDir);
  const file = path.join(dataDir, SERVER_SECRET_FILE);
  try {
    // `wx`: only one process creates it; the others read what it wrote.
    fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ServerSecretError(`DATA_DIR: cannot create ${file} (${(err as Error).message}). Point DATA_DIR at a writable folder, or set SERVER_SECRET.`);
  }
  const text = fs.readFileSync(file, 'utf8').trim();
  if (text.length < 32) throw new ServerSecretError(`${file}: the server secret is shorter than 32 characters (the file was cut or edited). Delete the file to generate a new one (web chat visitors then start again), or set SERVER_SECRET.`);
  return new ServerSecret(Buffer.from(text, 'utf8'));
}

/**
 * Processes sharing one Redis must share the secret (else a web chat cookie signed by one is refused by another, and
 * anonymous reporters and log tags differ between them). The first process leaves a fingerprint of its secret in
 * Redis; a process with another secret says so at start-up. Returns false on a mismatch.
 */
export async function checkSecretIsShared(secret: ServerSecret, redis: Redis, prefix: string): Promise<boolean> {
  const key = `${prefix}server-secret-fingerprint`;
  const mine = secret.mac('fingerprint', 'cgb');
  await redis.set(key, mine, 'NX');
  return (await redis.get(key)) === mine;
}

/** The server secret could not be read or created; the message names the file or variable. */
export class ServerSecretError extends OperatorError {}

/**
 * DATA_DIR holds personal data (the embedded database) and secrets (tokens, the server secret): it and everything
 * created under it are readable by the server's user only (folders 0700, files 0600), whatever the umask the server
 * was started with. The process umask is narrowed for files created later (the embedded database adds files as it
 * grows), and what an older version left with wider modes is narrowed too.
 */
export function secureDataDir(dataDir: string): void {
  process.umask(process.umask() | 0o077);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  narrowModes(dataDir);
}

function narrowModes(dir: string): void {
  fs.chmodSync(dir, 0o700);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) narrowModes(full);
    else if (entry.isFile()) {
      const mode = fs.statSync(full).mode & 0o777;
      if (mode & 0o077) fs.chmodSync(full, mode & 0o700);
    }
  }
}
