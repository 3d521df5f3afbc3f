import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createRouterTransport, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { startAccount, mapAccountError, type AccountConfig } from "@parley/account";
import { startChat, mapChatError, type ChatConfig } from "@parley/chat";
import { startPresence, mapPresenceError, type Clock, type PresenceConfig, type Timers } from "@parley/presence";
import { startGateway, type GatewayConfig, type RunningGateway } from "@parley/gateway";
import { createIdgenService, mapIdgenError, SnowflakeGenerator, systemClock, type IdgenConfig } from "@parley/idgen";
import { configuredProviders, mapNotifyError, startNotify, type NotifyConfig, type RunningNotify } from "@parley/notify";
import { MemoryRegistry } from "@parley/discovery";
import { openConfiguredDb } from "@parley/relational";
import { errorInterceptor, errorInterceptorByService, Metrics, startServer, type Logger, type RunningServer } from "@parley/runtime";

export interface EmbeddedConfig {
  account: AccountConfig;
  idgen: IdgenConfig;
  chat: ChatConfig;
  presence: PresenceConfig;
  notify: NotifyConfig;
  gateway: GatewayConfig;
  /** When set, the internal services are also served over gRPC on this port (127.0.0.1). */
  internalPort: number | undefined;
}

export interface RunningParley {
  gateway: RunningServer;
  notify: RunningNotify;
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
  const metrics = new Metrics();
  // One process: the registry lives in memory and holds the one gateway, so PickGateway works as in the mesh.
  const registry = new MemoryRegistry();
  const db = await openConfiguredDb(config.account.databaseUrl, join(config.account.dataDir, "pglite"), loggerFor("relational"));
  const account = await startAccount(config.account, loggerFor("account"), { db });
  const idgen = createIdgenService({
    generator: new SnowflakeGenerator({ workerId: config.idgen.workerId, clock: systemClock, maxBackwardMs: config.idgen.maxClockBackwardMs }),
  });
  const accountErrors = errorInterceptor(mapAccountError, loggerFor("account"));
  const idgenErrors = errorInterceptor(mapIdgenError, loggerFor("idgen"));
  const chatErrors = errorInterceptor(mapChatError, loggerFor("chat"));
  const presenceErrors = errorInterceptor(mapPresenceError, loggerFor("presence"));
  const notifyErrors = errorInterceptor(mapNotifyError, loggerFor("notify"));
  const accountTransport = inProcess(account.routes, [accountErrors]);

  // Chat reaches notify in process with credentials made up for this run; callers named in
  // NOTIFY_CALLERS may also use notify on the internal port.
  const chatSecret = randomBytes(24).toString("base64url");
  const notify = await startNotify(
    {
      db,
      account: accountTransport,
      // Channels without a configured provider record instead: `npm start` logs what would have been sent.
      providers: configuredProviders(config.notify.providers, true, loggerFor("notify")),
      config: { ...config.notify, callers: new Map([...config.notify.callers, ["parley-embedded-chat", chatSecret]]) },
    },
    loggerFor("notify"),
    metrics,
  );

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
      notify: { transport: inProcess(notify.routes, [notifyErrors, notify.auth]), appKey: "parley-embedded-chat", appSecret: chatSecret },
      gatewayTransport: () => inProcess(gateway!.deliverRoutes, []),
    },
    loggerFor("chat"),
    metrics,
  );
  gateway = await startGateway(
    config.gateway,
    { account: accountTransport, chat: inProcess(chat.routes, [chatErrors]), presence: presenceTransport },
    { logger: loggerFor("gateway"), metrics, serveDeliverOnInternalPort: false, registry },
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
            notify.routes(router);
          },
          serviceNames: [...account.serviceNames, ...idgen.serviceNames, ...chat.serviceNames, ...presence.serviceNames, ...notify.serviceNames],
          logger: loggerFor("internal"),
          metrics,
          // Each call's errors are mapped by the service it called (one interceptor per service would turn the others' errors into INTERNAL).
          interceptors: [
            errorInterceptorByService(
              [
                { services: account.serviceNames, map: mapAccountError, logger: loggerFor("account") },
                { services: idgen.serviceNames, map: mapIdgenError, logger: loggerFor("idgen") },
                { services: chat.serviceNames, map: mapChatError, logger: loggerFor("chat") },
                { services: presence.serviceNames, map: mapPresenceError, logger: loggerFor("presence") },
                { services: notify.serviceNames, map: mapNotifyError, logger: loggerFor("notify") },
              ],
              loggerFor("internal"),
            ),
            notify.auth,
          ],
        });

  return {
    gateway: gateway.server,
    notify,
    internal,
    async close(graceMs) {
      account.drain();
      chat.drain();
      presence.drain();
      await gateway!.close(graceMs);
      await internal?.close(graceMs);
      await chat.close();
      await notify.close(graceMs);
      await presence.close();
      await account.close();
      await registry.close();
      await db.close();
    },
  };
}

function inProcess(routes: (router: ConnectRouter) => void, interceptors: Interceptor[]) {
  return createRouterTransport(routes, { router: { interceptors } });
}
