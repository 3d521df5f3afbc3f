import { join } from "node:path";
import { createRouterTransport, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { startAccount, mapAccountError, type AccountConfig } from "@parley/account";
import { startChat, mapChatError, type ChatConfig } from "@parley/chat";
import { startPresence, mapPresenceError, type Clock, type PresenceConfig, type Timers } from "@parley/presence";
import { startGateway, type GatewayConfig, type RunningGateway } from "@parley/gateway";
import { createIdgenService, mapIdgenError, SnowflakeGenerator, systemClock, type IdgenConfig } from "@parley/idgen";
import { openConfiguredDb } from "@parley/relational";
import { errorInterceptor, Metrics, startServer, type Logger, type RunningServer } from "@parley/runtime";

export interface EmbeddedConfig {
  account: AccountConfig;
  idgen: IdgenConfig;
  chat: ChatConfig;
  presence: PresenceConfig;
  gateway: GatewayConfig;
  /** When set, the internal services are also served over gRPC on this port (127.0.0.1). */
  internalPort: number | undefined;
}

export interface RunningParley {
  gateway: RunningServer;
  internal: RunningServer | undefined;
  close(graceMs: number): Promise<void>;
}

/**
 * Every service in one process on the embedded defaults: one PGlite database
 * in the data folder shared by the services that need SQL, and in-process
 * Connect transports between them (the same contracts, serialisation and
 * error mapping as over gRPC, minus the network).
 */
export async function startEmbedded(
  config: EmbeddedConfig,
  loggerFor: (service: string) => Logger,
  /** Tests inject a fake clock into presence to run grace periods without waiting. */
  options: { presenceTime?: Clock & Timers } = {},
): Promise<RunningParley> {
  const db = await openConfiguredDb(config.account.databaseUrl, join(config.account.dataDir, "pglite"), loggerFor("relational"));
  const account = await startAccount(config.account, loggerFor("account"), { db });
  const idgen = createIdgenService({
    generator: new SnowflakeGenerator({ workerId: config.idgen.workerId, clock: systemClock, maxBackwardMs: config.idgen.maxClockBackwardMs }),
  });
  const accountErrors = errorInterceptor(mapAccountError, loggerFor("account"));
  const idgenErrors = errorInterceptor(mapIdgenError, loggerFor("idgen"));
  const chatErrors = errorInterceptor(mapChatError, loggerFor("chat"));
  const presenceErrors = errorInterceptor(mapPresenceError, loggerFor("presence"));
  const accountTransport = inProcess(account.routes, [accountErrors]);

  const presence = await startPresence(
    {
      db,
      account: accountTransport,
      graceMs: config.presence.graceMs,
      heartbeatTimeoutMs: config.presence.heartbeatTimeoutMs,
      ...(options.presenceTime ? { time: options.presenceTime } : {}),
    },
    loggerFor("presence"),
  );
  const presenceTransport = inProcess(presence.routes, [presenceErrors]);

  let gateway: RunningGateway | undefined;
  const chat = await startChat(
    {
      db,
      account: accountTransport,
      idgen: inProcess(idgen.routes, [idgenErrors]),
      presence: presenceTransport,
      maxGroupMembers: config.chat.maxGroupMembers,
      gatewayTransport: () => inProcess(gateway!.deliverRoutes, []),
    },
    loggerFor("chat"),
  );
  const metrics = new Metrics();
  gateway = await startGateway(
    config.gateway,
    { account: accountTransport, chat: inProcess(chat.routes, [chatErrors]), presence: presenceTransport },
    { logger: loggerFor("gateway"), metrics, serveDeliverOnInternalPort: false },
  );

  const internal =
    config.internalPort === undefined
      ? undefined
      : await startServer({
          host: "127.0.0.1",
          port: config.internalPort,
          routes: (router) => {
            account.routes(router);
            idgen.routes(router);
            chat.routes(router);
            presence.routes(router);
          },
          serviceNames: [...account.serviceNames, ...idgen.serviceNames, ...chat.serviceNames, ...presence.serviceNames],
          logger: loggerFor("internal"),
          metrics,
          interceptors: [accountErrors, idgenErrors, chatErrors, presenceErrors],
        });

  return {
    gateway: gateway.server,
    internal,
    async close(graceMs) {
      account.drain();
      chat.drain();
      presence.drain();
      await gateway!.close(graceMs);
      await internal?.close(graceMs);
      await chat.close();
      await presence.close();
      await account.close();
      await db.close();
    },
  };
}

function inProcess(routes: (router: ConnectRouter) => void, interceptors: Interceptor[]) {
  return createRouterTransport(routes, { router: { interceptors } });
}
