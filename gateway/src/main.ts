import { joinMesh, MemoryRegistry } from "@parley/mesh";
import { createLogger, exitOnSignal, failStartup, Metrics, openInternalPlane, ServerTls } from "@parley/runtime";
import { loadGatewayConfig } from "./config.js";
import { startGateway } from "./gateway.js";

/**
 * The gateway as its own process: the public API and WebSocket on PORT,
 * DeliverService (for chat only) on the internal port. With ETCD_ENDPOINTS
 * it finds the services and registers itself through etcd (retrying etcd at
 * start with capped, jittered backoff); without, it uses the configured
 * addresses and an in-memory registry holding only itself.
 */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger("gateway", config.logLevel);
  const plane = openInternalPlane(config.plane, "gateway", logger, { listenHosts: [config.internalHost] });
  const publicTls = config.publicTls && new ServerTls(config.publicTls, logger, config.plane.reloadMs);
  const mesh = await joinMesh(config.registry, logger, (address, service) => plane.transport(address, service)).catch((err: unknown) => failStartup(logger, err));
  const registry = mesh.backend?.registry ?? new MemoryRegistry();
  const gateway = await startGateway(
    config,
    {
      account: mesh.transportTo("account", config.accountAddress),
      chat: mesh.transportTo("chat", config.chatAddress),
      presence: mesh.transportTo("presence", config.presenceAddress),
    },
    { logger, metrics: new Metrics(), plane, registry, ...(publicTls ? { publicTls } : {}) },
  ).catch((err: unknown) => failStartup(logger, err));
  logger.info({ url: gateway.server.url, deliver: gateway.internal?.url, mesh: mesh.description }, "gateway listening");
  exitOnSignal(
    logger,
    async () => {
      await gateway.close(config.shutdownGraceMs);
      await mesh.close();
      if (mesh.backend === undefined) await registry.close();
      publicTls?.close();
      plane.close();
    },
    config.shutdownGraceMs + 10_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
