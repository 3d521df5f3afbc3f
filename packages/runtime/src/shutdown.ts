import type { Logger } from "./logger.js";

/**
 * Runs `stop` on the first SIGTERM or SIGINT and exits 0 when it finishes
 * within `timeoutMs`, 1 otherwise. A second signal exits at once.
 */
export function exitOnSignal(logger: Logger, stop: () => Promise<void>, timeoutMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal; exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, "shutdown took too long; exiting");
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/**
 * Reports a failure to start (bad configuration, unreachable database) on
 * stderr in plain words and exits non-zero.
 */
export function failStartup(logger: Logger | undefined, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  if (logger) logger.fatal({ err }, "failed to start");
  process.stderr.write(`parley: failed to start: ${message}\n`);
  process.exit(1);
}
