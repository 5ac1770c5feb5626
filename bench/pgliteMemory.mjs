/*
 * What the embedded database alone costs in memory (issue 18). `npm run build && node bench/pgliteMemory.mjs` makes a
 * migrated folder in a child process (as the server's first start does), then opens it in this process with the
 * server's own PGlite settings (`PGLITE_OPTIONS` of dist/db/Database.js), runs 2,000 small write transactions and
 * some reads, and prints this process's RSS and peak RSS (VmHWM) after each step, with the size of PGlite's
 * WebAssembly memory. Node alone is the first line; the rest is PGlite. The V8 flags of openDatabase
 * (`PGLITE_V8_FLAGS`) are set as the server sets them, unless PGLITE_MEMORY_V8_DEFAULT=1.
 *
 * PGLITE_MEMORY_EXTRA='{"startParams":["-c","work_mem=1MB"],"initialMemory":33554432}' adds to (startParams: appends
 * to) the server's settings, to try others. PGLITE_MEMORY_DIR=<dir> keeps the folder (made once) between runs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const self = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(self), '..');

function status(field) {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
}
const mb = (bytes) => Math.round(bytes / 2 ** 20);
/**
 * Resident MB by kind of mapping (/proc/self/smaps): PGlite's WebAssembly memory (the mapping of exactly its size
 * inside the guard region V8 reserves), files (node's own code, mostly), and the other anonymous memory (V8's heap and compiled code,
 * malloc).
 */
function residentByKind(wasmBytes) {
  const kinds = { wasmMemory: 0, files: 0, other: 0 };
  let kind = 'other';
  for (const row of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(row);
    if (head) {
      const size = Number(BigInt(`0x${head[2]}`) - BigInt(`0x${head[1]}`));
      kind = head[3].startsWith('/') ? 'files' : size === wasmBytes ? 'wasmMemory' : 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(row);
    if (rss) kinds[kind] += Number(rss[1]) / 1024;
  }
  return `wasm memory ${kinds.wasmMemory.toFixed(0)}, files ${kinds.files.toFixed(0)}, other ${kinds.other.toFixed(0)}`;
}
function line(step, db) {
  const m = process.memoryUsage();
  const wasm = db?.mod?.HEAPU8?.byteLength;
  process.stdout.write(
    `${step.padEnd(34)} rss ${status('VmRSS').toFixed(0).padStart(4)} MB  peak ${status('VmHWM').toFixed(0).padStart(4)} MB  heapUsed ${mb(m.heapUsed)}  heapTotal ${mb(m.heapTotal)}  external ${mb(m.external)}  arrayBuffers ${mb(m.arrayBuffers)}${wasm ? `  wasm memory ${mb(wasm)}` : ''}\n${' '.repeat(34)} resident: ${residentByKind(wasm)}\n`,
  );
}

const extra = process.env.PGLITE_MEMORY_EXTRA ? JSON.parse(process.env.PGLITE_MEMORY_EXTRA) : {};

if (process.argv[2] === '--prepare') {
  // The folder is made and migrated here, in a process of its own, so that the measured one only opens it.
  const { openDatabase } = require(path.join(root, 'dist/db/Database.js'));
  const { migrate } = require(path.join(root, 'dist/db/migrate.js'));
  const db = await openDatabase({ dataDir: process.argv[3] });
  await migrate(db, path.join(root, 'migrations'));
  await db.query('CREATE TABLE IF NOT EXISTS bench_rows (id serial PRIMARY KEY, chat bigint NOT NULL, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
  await db.query('CREATE INDEX IF NOT EXISTS bench_rows_chat ON bench_rows (chat, created_at)');
  await db.close();
  process.exit(0);
}

line('node, nothing loaded');
const dataDir = process.env.PGLITE_MEMORY_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pglite-memory-'));
if (!fs.existsSync(path.join(dataDir, 'pglite', 'PG_VERSION'))) {
  const made = spawnSync(process.execPath, [self, '--prepare', dataDir], { stdio: 'inherit' });
  if (made.status !== 0) throw new Error('could not make the folder');
}
// The CommonJS build, as the server (dist/, CommonJS) loads it.
const { PGlite } = require('@electric-sql/pglite');
const { PGLITE_OPTIONS, PGLITE_V8_FLAGS } = require(path.join(root, 'dist/db/Database.js'));
line('PGlite and Database.js loaded');
const options = { ...PGLITE_OPTIONS, ...extra, startParams: [...(PGLITE_OPTIONS.startParams ?? PGlite.defaultStartParams), ...(extra.startParams ?? [])] };
// As openDatabase does, unless PGLITE_MEMORY_V8_DEFAULT=1 (to compare with V8's own tiers).
if (!process.env.PGLITE_MEMORY_V8_DEFAULT) v8.setFlagsFromString(PGLITE_V8_FLAGS);
const started = process.hrtime.bigint();
const db = new PGlite(path.join(dataDir, 'pglite'), options);
await db.waitReady;
const openMs = Number(process.hrtime.bigint() - started) / 1e6;
line(`opened (${openMs.toFixed(0)} ms)`, db);
const settings = await db.query(
  "SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers','wal_buffers','work_mem','maintenance_work_mem','temp_buffers','max_connections','max_locks_per_transaction','max_prepared_transactions','max_wal_senders','max_replication_slots') ORDER BY name",
);
process.stdout.write(`settings: ${settings.rows.map((r) => `${r.name}=${r.setting}×${r.unit ?? ''}`).join(' ')}\n`);

const cpu0 = process.cpuUsage();
for (let i = 0; i < 2000; i++) {
  await db.transaction(async (tx) => {
    await tx.query('INSERT INTO bench_rows (chat, body) VALUES ($1, $2)', [i % 500, JSON.stringify({ i, answers: Array.from({ length: 14 }, (_, k) => `answer ${k} of ${i}`) })]);
    await tx.query('UPDATE bench_rows SET body = body || $2 WHERE id = (SELECT max(id) FROM bench_rows WHERE chat = $1)', [i % 500, JSON.stringify({ confirmed: true })]);
  });
  if (i % 10 === 0) await db.query('SELECT chat, count(*) FROM bench_rows GROUP BY chat ORDER BY count(*) DESC LIMIT 20');
}
const cpu = process.cpuUsage(cpu0);
line(`2,000 transactions (${((cpu.user + cpu.system) / 1000 / 2000).toFixed(2)} ms CPU each)`, db);
await db.query('SELECT * FROM bench_rows ORDER BY body->>\'i\' DESC LIMIT 100');
await db.query('SELECT count(*) FROM bench_rows a JOIN bench_rows b ON a.chat = b.chat');
line('a sort and a join', db);
await db.close();
if (!process.env.PGLITE_MEMORY_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
