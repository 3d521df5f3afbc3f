import { createLogger, exitOnSignal, failStartup, grpcTransport, Metrics, startServer } from "@parley/runtime";
import { loadGatewayConfig } from "./config.js";
import { gatewayRoutes, gatewayServiceNames } from "./server.js";

/** The gateway as its own process: the public API on PORT, services reached over gRPC. */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger("gateway", config.logLevel);
  const server = await startServer({
    host: config.host,
    port: config.port,
    routes: gatewayRoutes({ account: grpcTransport(config.accountAddress) }, config.upstreamTimeoutMs),
    serviceNames: gatewayServiceNames,
    logger,
    metrics: new Metrics(),
    readMaxBytes: config.maxRequestBytes,
  });
  logger.info({ url: server.url, account: config.accountAddress }, "gateway listening");
  exitOnSignal(logger, () => server.close(config.shutdownGraceMs), config.shutdownGraceMs + 5_000);
}

main().catch((err: unknown) => failStartup(undefined, err));
