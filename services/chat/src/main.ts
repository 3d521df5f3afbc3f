import { join } from "node:path";
import { openConfiguredDb } from "@parley/relational";
import { joinMesh } from "@parley/discovery";
import { createLogger, errorInterceptor, exitOnSignal, failStartup, Metrics, startServer } from "@parley/runtime";
import { startChat } from "./chat-service.js";
import { loadChatConfig } from "./config.js";
import { mapChatError } from "./errors.js";

/** The chat service as its own process: gRPC on CHAT_PORT; account, idgen, presence and notify over gRPC; gateways by their hello. */
async function main(): Promise<void> {
  const config = loadChatConfig();
  const logger = createLogger("chat", config.logLevel);
  const db = await openConfiguredDb(config.databaseUrl, join(config.dataDir, "pglite-chat"), logger).catch((err: unknown) =>
    failStartup(logger, err),
  );
  const metrics = new Metrics();
  const mesh = await joinMesh(config.registry, logger).catch((err: unknown) => failStartup(logger, err));
  const chat = await startChat(
    {
      db,
      account: mesh.transportTo("account", config.accountAddress),
      idgen: mesh.transportTo("idgen", config.idgenAddress),
      presence: mesh.transportTo("presence", config.presenceAddress),
      maxGroupMembers: config.maxGroupMembers,
      ...(config.notifyAppSecret === undefined
        ? {}
        : { notify: { transport: mesh.transportTo("notify", config.notifyAddress), appKey: config.notifyAppKey, appSecret: config.notifyAppSecret } }),
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
    interceptors: [errorInterceptor(mapChatError, logger)],
    onDrain: chat.drain,
  });
  await mesh.register("chat", config.advertiseAddress ?? new URL(server.url).host).catch((err: unknown) => failStartup(logger, err));
  logger.info({ url: server.url, mesh: mesh.description }, "chat service listening");
  exitOnSignal(
    logger,
    async () => {
      await mesh.close(); // out of the registry first: no new calls come here
      await server.close(config.shutdownGraceMs);
      await chat.close();
      await db.close();
    },
    config.shutdownGraceMs + 5_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
