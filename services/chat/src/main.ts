import { join } from "node:path";
import { openConfiguredDb } from "@parley/relational";
import { createLogger, errorInterceptor, exitOnSignal, failStartup, grpcTransport, Metrics, startServer } from "@parley/runtime";
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
  const chat = await startChat(
    {
      db,
      account: grpcTransport(config.accountAddress),
      idgen: grpcTransport(config.idgenAddress),
      presence: grpcTransport(config.presenceAddress),
      maxGroupMembers: config.maxGroupMembers,
      ...(config.notifyAppSecret === undefined
        ? {}
        : { notify: { transport: grpcTransport(config.notifyAddress), appKey: config.notifyAppKey, appSecret: config.notifyAppSecret } }),
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
  logger.info({ url: server.url }, "chat service listening");
  exitOnSignal(
    logger,
    async () => {
      await server.close(config.shutdownGraceMs);
      await chat.close();
      await db.close();
    },
    config.shutdownGraceMs + 5_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
