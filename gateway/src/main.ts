import { openDiscoveryBackend, withStartRetry } from "@parley/discovery";
import { createLogger, exitOnSignal, failStartup, grpcTransport, Metrics } from "@parley/runtime";
import { loadGatewayConfig } from "./config.js";
import { startGateway } from "./gateway.js";

/** The gateway as its own process: the public API and WebSocket on PORT, DeliverService on the internal port, registered in discovery. */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger("gateway", config.logLevel);
  const discovery = openDiscoveryBackend(config.registry, logger);
  // etcd down at start: retry with capped, jittered backoff instead of exiting into a restart loop.
  await withStartRetry("gateway: reaching the registry", config.registry, logger, () => discovery.registry.list("gateway")).catch((err: unknown) => failStartup(logger, err));
  const gateway = await startGateway(
    config,
    { account: grpcTransport(config.accountAddress), chat: grpcTransport(config.chatAddress), presence: grpcTransport(config.presenceAddress) },
    { logger, metrics: new Metrics(), serveDeliverOnInternalPort: true, registry: discovery.registry },
  ).catch((err: unknown) => failStartup(logger, err));
  logger.info(
    { url: gateway.server.url, deliver: gateway.internal?.url, registry: discovery.description, account: config.accountAddress, chat: config.chatAddress, presence: config.presenceAddress },
    "gateway listening",
  );
  exitOnSignal(
    logger,
    async () => {
      await gateway.close(config.shutdownGraceMs);
      await discovery.close();
    },
    config.shutdownGraceMs + 10_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
