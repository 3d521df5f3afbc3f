import { loadEnv } from "./config.js";
import { createLogger, type Logger } from "./logger.js";
import { exitOnSignal, failStartup } from "./shutdown.js";
import { startTracing, tracingEnv, tracingSettings, type TracingSettings } from "./tracing.js";

/**
 * Time allowed beyond a process's own shutdown budget before it is made to
 * exit: for the last closes after the grace period (cutting stragglers,
 * leaving the registry) to finish.
 */
export const SHUTDOWN_MARGIN_MS = 5_000;

/** A process once it serves. */
export interface StartedService {
  /** The line logged once it serves; tests and operators wait for it, so each process keeps its own words. */
  ready: { message: string; fields: Record<string, unknown> };
  /** Stops everything in order: out of the registry first, then drain the server, then the service, its storage and the plane. */
  stop(): Promise<void>;
}

/** What makes a Parley process: everything else of its life is `runService`'s. */
export interface ServiceDefinition<C> {
  /** The logger's service name. */
  name: string;
  /** Reads and checks the environment; a ConfigError names every bad variable. */
  loadConfig(): C;
  logLevel(config: C): string;
  /** How long `stop` may take when all goes well (the grace period, plus any drain before it). */
  shutdownBudgetMs(config: C): number;
  /** Starts the process's parts (storage, plane, mesh, service, server) and registers it; resolves once it serves. */
  start(config: C, logger: Logger): Promise<StartedService>;
}

/**
 * The one lifecycle of every Parley process: read the configuration (a bad
 * value stops the start with plain words on stderr, before any logger), make
 * the logger, start, handle SIGTERM and SIGINT (stop in the process's order
 * within its budget plus SHUTDOWN_MARGIN_MS), then log the ready line. A
 * failure while starting is logged and exits 1. Tracing (OTEL_* variables,
 * ./tracing.ts) starts with the logger and exports its last spans at the stop.
 */
export async function runService<C>(definition: ServiceDefinition<C>): Promise<void> {
  let config: C;
  let tracing: TracingSettings;
  try {
    config = definition.loadConfig();
    tracing = tracingSettings(loadEnv(tracingEnv));
  } catch (err) {
    failStartup(undefined, err);
  }
  const logger = createLogger(definition.name, definition.logLevel(config));
  const tracer = startTracing(definition.name, tracing);
  const started = await definition.start(config, logger).catch((err: unknown) => failStartup(logger, err));
  const stop = async () => {
    await started.stop();
    await tracer.shutdown().catch((err: unknown) => logger.warn({ err }, "could not export the last spans"));
  };
  // Signals are handled before the ready line is written: whoever waits for it may send SIGTERM at once.
  exitOnSignal(logger, stop, definition.shutdownBudgetMs(config) + SHUTDOWN_MARGIN_MS);
  logger.info(started.ready.fields, started.ready.message);
}
