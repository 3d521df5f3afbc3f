import { createLogger, exitOnSignal, failStartup, grpcTransport, Metrics } from "@parley/runtime";
import { loadGatewayConfig } from "./config.js";
import { startGateway } from "./gateway.js";

/** The gateway as its own process: the public API and WebSocket on PORT, DeliverService on the internal port. */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger("gateway", config.logLevel);
  const gateway = await startGateway(
    config,
    { account: grpcTransport(config.accountAddress), chat: grpcTransport(config.chatAddress), presence: grpcTransport(config.presenceAddress) },
    { logger, metrics: new Metrics(), serveDeliverOnInternalPort: true },
  );
  logger.info({ url: gateway.server.url, deliver: gateway.internal?.url, account: config.accountAddress, chat: config.chatAddress, presence: config.presenceAddress }, "gateway listening");
  exitOnSignal(logger, () => gateway.close(config.shutdownGraceMs), config.shutdownGraceMs + 10_000);
}

main().catch((err: unknown) => failStartup(undefined, err));
