import { FakeZalo, newUserId, postZaloEvent, zaloEnv, zaloEvents } from './support/fakeZalo';
import { tempDir, testRedisUrl, uniquePrefix } from './support/harness';
import { spawnServer, waitForExit, waitForListening } from './support/processes';

describe('the real server process with the Zalo channel on', () => {
  it('serves the webhook, renews a refused token, and never logs user ids, texts or tokens', async () => {
    const initial = { accessToken: 'acc-process-refused-77', refreshToken: 'ref-process-secret-77' };
    const fake = await new FakeZalo(initial).start();
    fake.validAccessTokens.delete(initial.accessToken);
    const child = spawnServer({
      PORT: '0',
      DATA_DIR: tempDir(),
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix(),
      LOG_LEVEL: 'debug',
      PUBLIC_URL: 'https://bot.bacha.example.vn',
      ...zaloEnv(fake, initial),
    });
    let stdout = '';
    child.stdout?.on('data', (d) => (stdout += d));
    try {
      const url = await waitForListening(child);
      const user = newUserId();
      expect((await postZaloEvent(url, zaloEvents.follow(user))).status).toBe(200);
      await fake.waitForMessages(user, 2);
      expect((await postZaloEvent(url, zaloEvents.text(user, 'Nguyễn Văn Bình 0912345678'))).status).toBe(200);
      await fake.waitForMessages(user, 4);
      expect((await postZaloEvent(url, zaloEvents.follow(user), { signature: 'mac=00' })).status).toBe(401);
      const exited = waitForExit(child);
      child.kill('SIGTERM');
      expect((await exited).code).toBe(0);
      expect(fake.oauthCalls).toHaveLength(1);
      expect(stdout).toContain('https://bot.bacha.example.vn/webhooks/zalo');
      expect(stdout).toContain('access token renewed and stored');
      // Start-up tells the IT officer, in sentences, what is not set up: no officials' group, the empty facts (once).
      expect(stdout).toContain("No officials' Telegram group receives the reports of any commune");
      expect(stdout).toContain('set OFFICIALS_TELEGRAM_CHAT_ID to its chat id');
      expect(stdout.split('\n').filter((l) => l.includes('The locality file leaves'))).toHaveLength(1);
      expect(stdout).toContain('communes[].healthStation.phone: 19 of 19 communes');
      const secrets = [user, 'Nguyễn', '0912345678', initial.accessToken, initial.refreshToken, ...fake.validAccessTokens, ...fake.refreshTokens.keys()];
      for (const s of secrets) expect(stdout.split('\n').filter((l) => l.includes(s))).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await fake.stop();
    }
  });
});
