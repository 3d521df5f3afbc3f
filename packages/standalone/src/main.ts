import { createLogger, exitOnSignal, failStartup } from "@parley/runtime";
import { loadEmbeddedConfig } from "./config.js";
import { startEmbedded } from "./embedded.js";

/** `npm start`: all of Parley in one process, data in DATA_DIR, the API on PORT. */
async function main(): Promise<void> {
  const config = loadEmbeddedConfig();
  const logger = createLogger("parley", config.gateway.logLevel);
  const loggerFor = (service: string) => createLogger(service, config.gateway.logLevel);
  const parley = await startEmbedded(config, loggerFor).catch((err: unknown) => failStartup(logger, err));
  logger.info(
    { api: parley.gateway.url, internal: parley.internal?.url, dataDir: config.account.dataDir },
    "parley is running (embedded mode)",
  );
  const grace = config.gateway.shutdownGraceMs;
  exitOnSignal(logger, () => parley.close(grace), grace + 5_000);
}

main().catch((err: unknown) => failStartup(undefined, err));
