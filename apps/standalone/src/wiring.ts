import { fileURLToPath } from "node:url";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { accountAccess, startAccount, mapAccountError, type AccountConfig } from "@parley/account";
import { chatAccess, startChat, mapChatError, type ChatConfig } from "@parley/chat";
import { presenceAccess, startPresence, mapPresenceError, type Clock, type PresenceConfig, type Timers } from "@parley/presence";
import { deliverAccess, startGateway, type GatewayConfig, type RunningGateway } from "@parley/gateway";
import { idgenAccess, mapIdgenError, startIdgen, type IdgenConfig } from "@parley/idgen";
import { configuredProviders, mapNotifyError, notifyAccess, startNotify, type NotifyConfig, type RunningNotify } from "@parley/notify";
import { MemoryRegistry } from "@parley/mesh";
import { openConfiguredStorage } from "@parley/relational";
import {
  createLogger,
  errorInterceptor,
  errorInterceptorByService,
  inProcessTransport,
  mergePolicies,
  Metrics,
  openInternalPlane,
  ReadinessChecks,
  ServerTls,
  startServer,
  type AccessPolicy,
  type InternalPlane,
  type InternalPlaneSettings,
  type Logger,
  type Role,
  type RunningServer,
  type ServiceDefinition,
} from "@parley/runtime";
import { SOCKET_CLOSE_WAIT_MS, WEB_APP_PATH } from "@parley/gateway";
import { loadEmbeddedConfig } from "./config.js";

/**
 * The web app's bundle (apps/web, built by `npm run build` into its dist/):
 * the same relative path from src/ (npm run dev) and from dist/ (npm start).
 */
const WEB_APP_DIR = fileURLToPath(new URL("../../web/dist/", import.meta.url));

export interface EmbeddedConfig {
  account: AccountConfig;
  idgen: IdgenConfig;
  chat: ChatConfig;
  presence: PresenceConfig;
  notify: NotifyConfig;
  gateway: GatewayConfig;
  /** When set, the internal services are also served over gRPC on this port (127.0.0.1), to callers with service tokens. */
  internalPort: number | undefined;
  /** The trust file (and TLS) of the internal port. */
  plane: InternalPlaneSettings;
}

export interface RunningParley {
  gateway: RunningServer;
  /** The web chat app's address, when GATEWAY_WEB_APP is on. */
  webAppUrl: string | undefined;
  notify: RunningNotify;
  internal: RunningServer | undefined;
  close(graceMs: number): Promise<void>;
}

/**
 * Every service in one process on the embedded defaults: one SQLite database
 * in the data folder shared by the services that need SQL, and in-process
 * transports between them (the same contracts, access rules and error
 * mapping as over gRPC, with messages passed as objects, not encoded).
 */
export async function startEmbedded(
  config: EmbeddedConfig,
  loggerFor: (service: string) => Logger,
  /**
   * Tests inject a fake clock into presence to run grace periods without
   * waiting, and may serve a web app bundle of their own.
   */
  options: { presenceTime?: Clock & Timers; webAppDir?: string } = {},
): Promise<RunningParley> {
  const metrics = new Metrics();
  // One process: the registry lives in memory and holds the one gateway, so PickGateway works as in the mesh.
  const registry = new MemoryRegistry();
  const storage = await openConfiguredStorage(config.account.database, config.account.dataDir, "parley", loggerFor("relational"), metrics.databaseError);
  // One process: its only outside dependency is the database; the gateway adds its stream to chat.
  const readiness = new ReadinessChecks(config.gateway.readiness, loggerFor("readiness"));
  readiness.register("database", () => storage.ping());
  const account = await startAccount(config.account, loggerFor("account"), { storage }, metrics);
  const idgen = startIdgen({ workerId: config.idgen.workerId, maxClockBackwardMs: config.idgen.maxClockBackwardMs });
  const accountErrors = errorInterceptor(mapAccountError, loggerFor("account"));
  const idgenErrors = errorInterceptor(mapIdgenError, loggerFor("idgen"));
  const chatErrors = errorInterceptor(mapChatError, loggerFor("chat"));
  const presenceErrors = errorInterceptor(mapPresenceError, loggerFor("presence"));
  const notifyErrors = errorInterceptor(mapNotifyError, loggerFor("notify"));
  // Each component reaches another through a transport of its own that marks it as the caller,
  // so the access policies hold in one process exactly as over the network.
  const guardLogger = loggerFor("internal");
  const accountAs = (caller: Role) => inProcess(account.routes, accountAccess, caller, accountErrors, guardLogger);

  const notify = await startNotify(
    {
      storage,
      account: accountAs("notify"),
      // Channels without a configured provider record instead: `npm start` logs what would have been sent.
      providers: configuredProviders(config.notify.providers, true, loggerFor("notify")),
      config: config.notify,
    },
    loggerFor("notify"),
    metrics,
  );

  const presence = await startPresence(
    {
      storage,
      account: accountAs("presence"),
      graceMs: config.presence.graceMs,
      heartbeatTimeoutMs: config.presence.heartbeatTimeoutMs,
      ...(options.presenceTime ? { time: options.presenceTime } : {}),
    },
    loggerFor("presence"),
    metrics,
  );

  let gateway: RunningGateway | undefined;
  const chat = await startChat(
    {
      storage,
      account: accountAs("chat"),
      idgen: inProcess(idgen.routes, idgenAccess, "chat", idgenErrors, guardLogger),
      presence: inProcess(presence.routes, presenceAccess, "chat", presenceErrors, guardLogger),
      maxGroupMembers: config.chat.maxGroupMembers,
      editWindowSeconds: config.chat.editWindowSeconds,
      deleteWindowSeconds: config.chat.deleteWindowSeconds,
      ...(config.chat.pushEnabled ? { notify: { transport: inProcess(notify.routes, notifyAccess, "chat", notifyErrors, guardLogger) } } : {}),
      gatewayTransport: () => inProcess(gateway!.deliverRoutes, deliverAccess, "chat", undefined, guardLogger),
    },
    loggerFor("chat"),
    metrics,
  );
  const publicTls = config.gateway.publicTls && new ServerTls(config.gateway.publicTls, loggerFor("gateway"), config.plane.reloadMs);
  gateway = await startGateway(
    config.gateway,
    {
      account: accountAs("gateway"),
      chat: inProcess(chat.routes, chatAccess, "gateway", chatErrors, guardLogger),
      presence: inProcess(presence.routes, presenceAccess, "gateway", presenceErrors, guardLogger),
    },
    {
      logger: loggerFor("gateway"),
      metrics,
      registry,
      readiness,
      webAppDir: options.webAppDir ?? WEB_APP_DIR,
      ...(publicTls ? { publicTls } : {}),
    },
  );

  // The internal port serves the same services to callers on this machine with service tokens
  // (operators, internal tools): the trust file is required, in-process credentials are not.
  const plane: InternalPlane | undefined =
    config.internalPort === undefined
      ? undefined
      : // The port only verifies callers (no key of its own is needed); the role here names no one.
        openInternalPlane(config.plane, "account", guardLogger, { listenHosts: ["127.0.0.1"], callsOthers: false });
  const internal =
    config.internalPort === undefined || plane === undefined
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
          reflection: true,
          readiness,
          interceptors: [
            plane.guard(mergePolicies(accountAccess, idgenAccess, chatAccess, presenceAccess, notifyAccess)),
            // Each call's errors are mapped by the service it called (one interceptor per service would turn the others' errors into INTERNAL).
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
          ],
          ...(plane.serverTls ? { tls: plane.serverTls } : {}),
        });

  readiness.start();
  return {
    gateway: gateway.server,
    webAppUrl: config.gateway.webApp ? new URL(WEB_APP_PATH, gateway.server.url).href : undefined,
    notify,
    internal,
    async close(graceMs) {
      readiness.close();
      internal?.health.drain();
      account.drain();
      chat.drain();
      await gateway!.close(graceMs);
      await internal?.close(graceMs);
      await chat.close();
      // After chat: its device lookups use presence until it has closed.
      presence.drain();
      await notify.close(graceMs);
      await presence.close();
      await account.close();
      await registry.close();
      await storage.close();
      plane?.close();
      publicTls?.close();
    },
  };
}

function inProcess(routes: (router: ConnectRouter) => void, policy: AccessPolicy, caller: Role, errors: Interceptor | undefined, logger: Logger) {
  return inProcessTransport(routes, { policy, caller, interceptors: errors ? [errors] : [], logger });
}

/** `npm start`: all of Parley in one process, data in DATA_DIR, the API on PORT. */
export const embeddedProcess: ServiceDefinition<EmbeddedConfig> = {
  name: "parley",
  loadConfig: () => loadEmbeddedConfig(),
  logLevel: (config) => config.gateway.logLevel,
  // The gateway's sockets get their close wait before the servers' grace period starts.
  shutdownBudgetMs: (config) => SOCKET_CLOSE_WAIT_MS + config.gateway.shutdownGraceMs,
  async start(config) {
    const parley = await startEmbedded(config, (service) => createLogger(service, config.gateway.logLevel));
    return {
      ready: {
        message: parley.webAppUrl ? `parley is running (embedded mode); open ${parley.webAppUrl} to chat` : "parley is running (embedded mode)",
        fields: { api: parley.gateway.url, webApp: parley.webAppUrl, internal: parley.internal?.url, dataDir: config.account.dataDir },
      },
      stop: () => parley.close(config.gateway.shutdownGraceMs),
    };
  },
};
