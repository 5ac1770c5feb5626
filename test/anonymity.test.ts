import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { userTag } from '../src/logger';
import { SERVER_SECRET_FILE } from '../src/safety/serverSecret';
import { PipelineCitizen } from './support/citizens';
import { startServer } from './support/harness';

describe('anonymous means anonymous', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('an anonymous report keeps no user id, chat id or phone: only a keyed hash, which still rate-limits and lists "my reports"', async () => {
    const c = new PipelineCitizen(server.runtime, '951234567', 'telegram');
    await c.onboard();
    const reference = await c.reportEntrant({ anonymous: true });
    const [row] = await server.runtime.db.query<Record<string, unknown>>('SELECT * FROM records WHERE reference = $1', [reference]);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(c.userId);
    expect(stored).not.toContain('987654321');
    const plainHashes = ['sha256', 'sha1', 'md5'].flatMap((a) => [c.userId, `telegram:${c.userId}`].map((v) => crypto.createHash(a).update(v).digest('hex')));
    for (const h of plainHashes) expect(stored).not.toContain(h.slice(0, 16));
    expect(String(row!.user_id)).toMatch(/^anon:[A-Za-z0-9_-]{40,}$/);

    expect(await c.say('bao cao cua toi')).toContain(reference);
    for (let i = 0; i < 4; i++) await c.reportEntrant({ anonymous: i % 2 === 0 });
    await c.start('report');
    for (const answer of ['1', 'Thôn A', 'bo qua', '1', 'mô tả', 'bo qua', '1']) await c.say(answer);
    expect(await c.say('1')).toContain('nhiều báo cáo trong một giờ');
  });

  it('log user tags are keyed by a secret generated at first start under DATA_DIR (0600), not a plain hash', () => {
    const file = path.join(server.runtime.config.dataDir, SERVER_SECRET_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const secret = fs.readFileSync(file, 'utf8').trim();
    const key = crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update('cgb:log-tag').digest();
    const id = 'telegram:123456789';
    expect(userTag(id)).toBe(crypto.createHmac('sha256', key).update(id).digest('hex').slice(0, 12));
    expect(userTag(id)).not.toBe(crypto.createHash('sha256').update(id).digest('hex').slice(0, 12));
  });

  it('SERVER_SECRET from the environment keys the tags instead, the same in every process', async () => {
    const secret = 'x'.repeat(16) + crypto.randomBytes(16).toString('hex');
    const other = await startServer({ SERVER_SECRET: secret });
    try {
      const key = crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update('cgb:log-tag').digest();
      expect(userTag('zalo:42')).toBe(crypto.createHmac('sha256', key).update('zalo:42').digest('hex').slice(0, 12));
      expect(fs.existsSync(path.join(other.runtime.config.dataDir, SERVER_SECRET_FILE))).toBe(false);
    } finally {
      await other.close();
    }
  });
});
