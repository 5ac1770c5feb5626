import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, type Database } from '../src/db/Database';
import { migrate } from '../src/db/migrate';
import { MIGRATIONS_DIR } from '../src/runtime';
import { tempDir } from './support/harness';

describe('migration 008: the venues\' audit entries move into the dashboard\'s one audit log', () => {
  let db: Database;
  afterAll(async () => {
    await db?.close();
  });

  it('copies every venue_audit_log row into audit_log (who, what, which venue) and drops the old table', async () => {
    const before = tempDir('cgb-migrations-');
    for (const f of fs.readdirSync(MIGRATIONS_DIR).filter((f) => f < '008')) fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(before, f));
    db = await openDatabase({ dataDir: null });
    await migrate(db, before);
    const at = '2021-07-15T02:00:00.000Z';
    await db.query(
      `INSERT INTO venues (reference, code, name, kind, commune, address, place_key, status, source, idempotency_key, created_at, updated_at)
       VALUES ('DD-210715-0001', 'K7M3QX9A', 'Chợ Bắc Hà', 'market', 'tt-bac-ha', 'Thôn 1', 'cho bac ha|thon 1', 'confirmed', 'field', 'k1', $1, $1)`,
      [at],
    );
    await db.query(
      `INSERT INTO venue_audit_log (at, actor, scope, action, venue_id, detail) VALUES
         ($1, 'telegram:123 Nguyễn Văn A', 'tt-bac-ha', 'export-csv', 1, '{"rows": 3}'),
         ($1, 'api:district-gis', 'all', 'trace', 99, '{"visitors": 0}')`,
      [at],
    );

    expect(await migrate(db, MIGRATIONS_DIR)).toEqual(fs.readdirSync(MIGRATIONS_DIR).filter((f) => f >= '008').map((f) => f.replace(/\.sql$/, '')));
    const rows = await db.query<{ actor: string; actor_name: string; action: string; subject: string; detail: unknown }>('SELECT actor, actor_name, action, subject, detail FROM audit_log ORDER BY id');
    expect(rows).toEqual([
      { actor: 'telegram:123', actor_name: 'Nguyễn Văn A', action: 'venue_export_csv', subject: 'venue:DD-210715-0001', detail: { rows: 3, scope: 'tt-bac-ha', venueId: 1 } },
      { actor: 'api:district-gis', actor_name: 'api:district-gis', action: 'venue_trace', subject: 'venue:99', detail: { visitors: 0, scope: 'all', venueId: 99 } },
    ]);
    expect(await db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'venue_audit_log'`)).toEqual([]);
  });
});
