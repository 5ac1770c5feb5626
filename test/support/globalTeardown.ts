export default async function globalTeardown(): Promise<void> {
  const child = globalThis.__TEST_REDIS__;
  if (!child) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(resolve, 3000).unref();
  });
}
