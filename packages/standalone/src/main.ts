import { loadAccountConfig } from "@parley/account";
import { loadChatConfig } from "@parley/chat";
import { loadPresenceConfig } from "@parley/presence";
import { loadGatewayConfig } from "@parley/gateway";
import { loadIdgenConfig } from "@parley/idgen";
import { ConfigError, createLogger, env, exitOnSignal, failStartup, loadEnv } from "@parley/runtime";
import { startEmbedded, type EmbeddedConfig } from "./embedded.js";

/** `npm start`: all of Parley in one process, data in DATA_DIR, the API on PORT. */
async function main(): Promise<void> {
  const config = loadConfig();
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

/** Reads every service's variables and reports all problems at once. */
function loadConfig(): EmbeddedConfig {
  const problems: string[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems.filter((p) => !problems.includes(p)));
      return undefined;
    }
  };
  const account = attempt(loadAccountConfig);
  const idgen = attempt(loadIdgenConfig);
  const chat = attempt(loadChatConfig);
  const presence = attempt(loadPresenceConfig);
  const gateway = attempt(loadGatewayConfig);
  const own = attempt(() => loadEnv({ INTERNAL_PORT: env.int(1, 65535).optional() }));
  if (problems.length > 0 || !account || !idgen || !chat || !presence || !gateway || !own) throw new ConfigError(problems);
  return { account, idgen, chat, presence, gateway, internalPort: own.INTERNAL_PORT };
}

main().catch((err: unknown) => failStartup(undefined, err));
