import { TelegramTokenRejectedError } from './channels/telegram/telegramChannel';
import { ConfigError, loadConfigFromProcess, type Config } from './config';
import { IntentFileError } from './engine/intents';
import { FlowValidationError } from './engine/loadFlows';
import { LocaleFileError } from './i18n';
import { LocalityFileError } from './locality/localitySchema';
import { createLogger } from './logger';
import { DatabaseUnavailableError } from './records/Database';
import { TriageRulesError } from './records/triage';
import { createRuntime, StorageUnavailableError, type Runtime } from './runtime';
import { ServerSecretError } from './safety/serverSecret';

/** Problems an operator can fix: one line each, no stack trace, exit code 1. */
const OPERATOR_ERRORS = [
  ConfigError,
  FlowValidationError,
  IntentFileError,
  LocalityFileError,
  LocaleFileError,
  StorageUnavailableError,
  DatabaseUnavailableError,
  TriageRulesError,
  TelegramTokenRejectedError,
  ServerSecretError,
];

function failStartup(err: unknown): never {
  if (OPERATOR_ERRORS.some((E) => err instanceof E)) {
    process.stderr.write(`Start-up failed. ${(err as Error).message}\n`);
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
