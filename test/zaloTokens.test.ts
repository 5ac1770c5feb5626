import fs from 'node:fs';
import path from 'node:path';
import { FakeZalo, FAKE_APP_ID, FAKE_APP_SECRET, newUserId, postZaloEvent, zaloEnv, zaloEvents } from './support/fakeZalo';
import { startServer, tempDir, testRedisUrl, uniquePrefix } from './support/harness';

const text = (t: string) => [{ kind: 'text' as const, text: t }];

// Each test starts and restarts servers (migrations, token file): on a machine whose cores are busy that takes minutes.
jest.setTimeout(180_000);

describe('Zalo OA tokens (OAuth v4)', () => {
  it('renews an access token refused with -216 exactly once, with the documented form and header, then the send succeeds; after a restart the stored pair is used', async () => {
    const initial = { accessToken: 'acc-initial-refused', refreshToken: 'ref-initial-0001' };
    const fake = await new FakeZalo(initial).start();
    // Zalo no longer accepts the configured access token.
    fake.validAccessTokens.delete(initial.accessToken);
    const dataDir = tempDir('cgb-zalo-data-');
    const env = { ...zaloEnv(fake, initial), DATA_DIR: dataDir };
    try {
      const first = await startServer(env);
      const user = newUserId();
      expect((await postZaloEvent(first.url, zaloEvents.follow(user))).status).toBe(200);
      await fake.waitForMessages(user, 2);

      expect(fake.oauthCalls).toHaveLength(1);
      const call = fake.oauthCalls[0]!;
      expect(call.contentType).toBe('application/x-www-form-urlencoded');
      expect(call.headers['secret_key']).toBe(FAKE_APP_SECRET);
      expect(call.form).toEqual({ refresh_token: initial.refreshToken, app_id: FAKE_APP_ID, grant_type: 'refresh_token' });
      const refused = fake.apiCalls.filter((c) => c.error === -216);
      expect(refused).toHaveLength(1);
      const renewed = fake.sent.find((m) => m.userId === user)!.accessToken;
      expect(renewed).not.toBe(initial.accessToken);

      // Stored durably (not only in memory), readable by the server's user only, no temporary file left behind.
      const file = path.join(dataDir, 'zalo-tokens.json');
      const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { accessToken: string; refreshToken: string; expiresAt: string };
      expect(stored.accessToken).toBe(renewed);
      expect(Date.parse(stored.expiresAt) - Date.now()).toBeGreaterThan(24 * 3600_000);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readdirSync(dataDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await first.close();

      // Zalo revokes the renewed access token too; the restarted server must renew with the rotated refresh token,
      // not with the environment's (already spent) one.
      fake.validAccessTokens.delete(renewed);
      const second = await startServer(env);
      await second.runtime.outbound.send('zalo', user, text('Thông báo của UBND huyện'));
      expect(fake.apiCalls.filter((c) => c.path === '/v3.0/oa/message/cs').at(-2)).toMatchObject({ accessToken: renewed, error: -216 });
      expect(fake.oauthCalls).toHaveLength(2);
      expect(fake.oauthCalls[1]!.form.refresh_token).toBe(stored.refreshToken);
      expect(fake.textsTo(user).at(-1)).toBe('Thông báo của UBND huyện');
      await second.close();
    } finally {
      await fake.stop();
    }
  });

  it('after a restart, uses the stored access token without renewing', async () => {
    const initial = { accessToken: 'acc-initial-refused', refreshToken: 'ref-initial-0002' };
    const fake = await new FakeZalo(initial).start();
    fake.validAccessTokens.delete(initial.accessToken);
    const env = { ...zaloEnv(fake, initial), DATA_DIR: tempDir('cgb-zalo-data-') };
    try {
      const first = await startServer(env);
      const user = newUserId();
      await first.runtime.outbound.send('zalo', user, text('một'));
      await first.close();
      const second = await startServer(env);
      await second.runtime.outbound.send('zalo', user, text('hai'));
      await second.close();
      expect(fake.oauthCalls).toHaveLength(1);
      expect(fake.apiCalls.filter((c) => c.error === -216)).toHaveLength(1);
      expect(fake.textsTo(user)).toEqual(['một', 'hai']);
    } finally {
      await fake.stop();
    }
  });

  it('prefers a pair an administrator put in the environment after the stored one was saved', async () => {
    const initial = { accessToken: 'acc-initial-refused', refreshToken: 'ref-initial-0003' };
    const fake = await new FakeZalo(initial).start();
    fake.validAccessTokens.delete(initial.accessToken);
    const dataDir = tempDir('cgb-zalo-data-');
    try {
      const first = await startServer({ ...zaloEnv(fake, initial), DATA_DIR: dataDir });
      const user = newUserId();
      await first.runtime.outbound.send('zalo', user, text('một'));
      await first.close();
      const pasted = { accessToken: 'acc-pasted-from-api-explorer', refreshToken: 'ref-pasted-from-api-explorer' };
      fake.validAccessTokens.add(pasted.accessToken);
      const second = await startServer({ ...zaloEnv(fake, pasted), DATA_DIR: dataDir });
      await second.runtime.outbound.send('zalo', user, text('hai'));
      await second.close();
      expect(fake.sent.at(-1)!.accessToken).toBe(pasted.accessToken);
      expect(fake.oauthCalls).toHaveLength(1);
    } finally {
      await fake.stop();
    }
  });

  it('two processes refused at the same moment renew once: one refresh call, both sends succeed', async () => {
    const initial = { accessToken: 'acc-initial-refused', refreshToken: 'ref-initial-0004' };
    const fake = await new FakeZalo(initial).start();
    fake.validAccessTokens.delete(initial.accessToken);
    // Slow enough that both processes are waiting for a token at once.
    fake.oauthDelayMs = 300;
    const env = { ...zaloEnv(fake, initial), DATA_DIR: tempDir('cgb-zalo-data-'), REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() };
    try {
      const [a, b] = await Promise.all([startServer(env), startServer(env)]);
      const users = [newUserId(), newUserId(), newUserId(), newUserId()];
      await Promise.all(users.map((u, i) => (i % 2 ? a : b).runtime.outbound.send('zalo', u, text(`tin ${i}`))));
      expect(fake.oauthCalls).toHaveLength(1);
      for (const [i, u] of users.entries()) expect(fake.textsTo(u)).toEqual([`tin ${i}`]);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await fake.stop();
    }
  });

  it('renews once on -220 (expired or removed) as well, and gives up after one retry', async () => {
    const initial = { accessToken: 'acc-initial-expired', refreshToken: 'ref-initial-0006' };
    const fake = await new FakeZalo(initial).start();
    try {
      const server = await startServer({ ...zaloEnv(fake, initial), DATA_DIR: tempDir('cgb-zalo-data-') });
      const ok = newUserId();
      fake.scriptedErrors.set(ok, [-220]);
      await server.runtime.outbound.send('zalo', ok, text('một'));
      expect(fake.oauthCalls).toHaveLength(1);
      expect(fake.textsTo(ok)).toEqual(['một']);
      const stubborn = newUserId();
      fake.scriptedErrors.set(stubborn, [-216, -216, -216]);
      const err = await server.runtime.outbound.send('zalo', stubborn, text('hai')).catch((e: { code?: number }) => e);
      expect(err).toMatchObject({ name: 'ZaloApiError', code: -216 });
      expect(fake.oauthCalls).toHaveLength(2);
      expect(fake.scriptedErrors.get(stubborn)).toHaveLength(1);
      await server.close();
    } finally {
      await fake.stop();
    }
  });

  it('says what to do when Zalo refuses the refresh token', async () => {
    const initial = { accessToken: 'acc-initial-refused', refreshToken: 'ref-initial-0005' };
    const fake = await new FakeZalo(initial).start();
    fake.validAccessTokens.delete(initial.accessToken);
    fake.refreshTokens.set(initial.refreshToken, true);
    try {
      const server = await startServer({ ...zaloEnv(fake, initial), DATA_DIR: tempDir('cgb-zalo-data-') });
      const err = await server.runtime.outbound.send('zalo', newUserId(), text('x')).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('ZaloTokenError');
      expect((err as Error).message).toMatch(/refused to renew.*ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN/s);
      expect((err as Error).message).not.toContain(initial.refreshToken);
      await server.close();
    } finally {
      await fake.stop();
    }
  });
});
