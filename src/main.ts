import { loadConfigFromProcess, type Config } from './config';
import { OperatorError } from './errors';
import { createLogger } from './logger';
import { createRuntime, type Runtime } from './runtime';

function failStartup(err: unknown): never {
  // Problems an operator can fix: one line each, no stack trace, exit code 1.
  if (err instanceof OperatorError) {
    process.stderr.write(`Start-up failed. ${err.message}\n`);
  } else {
    process.stderr.write(`Start-up failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfigFromProcess();
  } catch (err) {
    failStartup(err);
  }
  const log = createLogger(config.logLevel);
  let runtime: Runtime;
  let port: number;
  try {
    runtime = await createRuntime(config, log);
    port = await runtime.listen();
  } catch (err) {
    failStartup(err);
  }
  log.info({ port, sessions: runtime.store.kind, flows: runtime.flows.byId.size, communes: runtime.locality.communes.length }, `listening: web chat on http://localhost:${port}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new requests, finishing in-flight events');
    const force = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long; exiting anyway');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    runtime.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: Error) => {
        log.error({ err: { name: err.name, message: err.message } }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
