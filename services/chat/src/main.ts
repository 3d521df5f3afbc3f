import { openConfiguredStorage } from "@parley/relational";
import { joinMesh } from "@parley/mesh";
import { createLogger, errorInterceptor, exitOnSignal, failStartup, Metrics, openInternalPlane, startServer } from "@parley/runtime";
import { chatAccess } from "./access.js";
import { startChat } from "./chat-service.js";
import { loadChatConfig } from "./config.js";
import { mapChatError } from "./errors.js";

/** The chat service as its own process: gRPC on CHAT_PORT; account, idgen, presence and notify over gRPC; gateways by their hello. */
async function main(): Promise<void> {
  const config = loadChatConfig();
  const logger = createLogger("chat", config.logLevel);
  const storage = await openConfiguredStorage(config.database, config.dataDir, "chat", logger).catch((err: unknown) =>
    failStartup(logger, err),
  );
  const metrics = new Metrics();
  const plane = openInternalPlane(config.plane, "chat", logger, { listenHosts: [config.host] });
  const mesh = await joinMesh(config.registry, logger, (address, service) => plane.transport(address, service)).catch((err: unknown) => failStartup(logger, err));
  const chat = await startChat(
    {
      storage,
      account: mesh.transportTo("account", config.accountAddress),
      idgen: mesh.transportTo("idgen", config.idgenAddress),
      presence: mesh.transportTo("presence", config.presenceAddress),
      maxGroupMembers: config.maxGroupMembers,
      // Gateways announce where their DeliverService is on their stream's hello.
      gatewayTransport: (hello) => (hello.deliverAddress === "" ? undefined : plane.transport(hello.deliverAddress, "gateway")),
      ...(config.pushEnabled ? { notify: { transport: mesh.transportTo("notify", config.notifyAddress) } } : {}),
    },
    logger,
    metrics,
  ).catch((err: unknown) => failStartup(logger, err));
  const server = await startServer({
    host: config.host,
    port: config.port,
    routes: chat.routes,
    serviceNames: chat.serviceNames,
    logger,
    metrics,
    interceptors: [plane.guard(chatAccess), errorInterceptor(mapChatError, logger)],
    onDrain: chat.drain,
    ...(plane.serverTls ? { tls: plane.serverTls } : {}),
  });
  await mesh.register("chat", config.advertiseAddress ?? new URL(server.url).host).catch((err: unknown) => failStartup(logger, err));
  logger.info({ url: server.url, mesh: mesh.description }, "chat service listening");
  exitOnSignal(
    logger,
    async () => {
      await mesh.close(); // out of the registry first: no new calls come here
      await server.close(config.shutdownGraceMs);
      await chat.close();
      await storage.close();
      plane.close();
    },
    config.shutdownGraceMs + 5_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
