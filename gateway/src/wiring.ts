import { createClient, type ConnectRouter, type Transport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { DeliverService } from "@parley/contracts/parley/gateway/v1/deliver";
import { ServerFrameSchema } from "@parley/contracts/parley/client/v1/client";
import { PresenceService } from "@parley/contracts/parley/presence/v1/presence";
import { create } from "@bufbuild/protobuf";
import {
  dependencyFailure,
  errorInterceptor,
  ErrorTranslator,
  Metrics,
  openInternalPlane,
  ReadinessChecks,
  ServerTls,
  startServer,
  upstreamProbe,
  type InternalPlane,
  type Logger,
  type RunningServer,
  type ServiceDefinition,
} from "@parley/runtime";
import { followEveryInstance, joinMesh, mapDiscoveryError, MemoryRegistry, singleInstance, type InstanceSource, type Registry } from "@parley/mesh";
import { deliverAccess } from "./access.js";
import { clientAddressContext, TrustedProxies } from "./client-address.js";
import { loadGatewayConfig, type GatewayConfig } from "./config.js";
import { corsFilter } from "./cors.js";
import { composeFilters, webAppFilter } from "./web-app.js";
import { registerGateway, servePickGateway } from "./discovery.js";
import { gatewayRoutes, gatewayServiceNames } from "./server.js";
import { ChatLinks } from "./adapters/chat-links.js";
import { PresenceLinks } from "./adapters/presence-links.js";
import { deliverService } from "./ws/deliver.js";
import { gatewayMetrics } from "./metrics.js";
import { DeviceRegistry } from "./domain/device-registry.js";
import { attachWebSocket, SOCKET_CLOSE_WAIT_MS, type WebSocketEndpoint } from "./ws/websocket.js";

export interface GatewayUpstreamTransports {
  account: Transport;
  /** Every account instance, each followed for its events; absent: one, through `account`. */
  accountInstances?: InstanceSource;
  /** For single calls to any chat instance. */
  chat: Transport;
  /** Every chat instance, each given a command stream; absent: one, through `chat`. */
  chatInstances?: InstanceSource;
  /** For the one presence instance when `presenceInstances` is absent. */
  presence: Transport;
  /** Every presence instance, each given a session stream, users shared by owner; absent: one, through `presence`. */
  presenceInstances?: InstanceSource;
}

export interface RunningGateway {
  server: RunningServer;
  /** The internal DeliverService server (distributed mode); undefined when chat reaches it in-process. */
  internal: RunningServer | undefined;
  websocket: WebSocketEndpoint;
  /** DeliverService routes, for an in-process chat. */
  deliverRoutes: (router: ConnectRouter) => void;
  close(graceMs: number): Promise<void>;
}

/**
 * The gateway's composition root: the public HTTP API and WebSocket on one
 * port, DeliverService for chat (in-process, or on the internal port), the
 * multiplexed stream to chat, and the account-event watch that closes the
 * sockets of sessions that ended.
 */
export async function startGateway(
  config: GatewayConfig,
  upstreams: GatewayUpstreamTransports,
  deps: {
    logger: Logger;
    metrics: Metrics;
    /** The internal plane: DeliverService on its own port, only for chat (distributed mode); undefined when chat reaches it in-process. */
    plane?: InternalPlane;
    registry: Registry;
    /** HTTPS and WSS on the public port; cleartext when absent. */
    publicTls?: ServerTls;
    /** The process's readiness checks: the gateway adds its stream to chat, and its servers answer /readyz from them. */
    readiness?: ReadinessChecks;
    /** The web app's built folder (apps/web/dist), served under /app/ when config.webApp is on; the gateway does not know it by itself. */
    webAppDir?: string;
  },
): Promise<RunningGateway> {
  const { logger, metrics } = deps;
  const counters = gatewayMetrics(metrics, config.gatewayId);
  const discovery = await servePickGateway(deps.registry);
  const registry = new DeviceRegistry();
  const deliverRoutes = (router: ConnectRouter) => router.service(DeliverService, deliverService(registry));
  const plane = deps.plane;
  const internal = plane
    ? await startServer({
        host: config.internalHost,
        port: config.internalPort,
        routes: deliverRoutes,
        serviceNames: [DeliverService.typeName],
        logger,
        metrics,
        interceptors: [plane.guard(deliverAccess)],
        reflection: true,
        ...(deps.readiness ? { readiness: deps.readiness } : {}),
        ...(plane.serverTls ? { tls: plane.serverTls } : {}),
      })
    : undefined;
  const chatLink = new ChatLinks(
    upstreams.chatInstances ?? singleInstance(upstreams.chat),
    { gatewayId: config.gatewayId, deliverAddress: internal ? (config.deliverAddress ?? new URL(internal.url).host) : "" },
    config.upstreamTimeoutMs,
    logger,
    config.chatPacing,
    // Without an internal plane chat is in this process (npm start): no silence to watch for.
    plane !== undefined,
  );
  // Without a stream to chat no device can send or sync; presence down only loses presence, so it is no check.
  deps.readiness?.register("chat", () => {
    if (!chatLink.anyUp) throw new Error("no stream to a chat instance is up");
  });
  const presenceLink = new PresenceLinks(
    upstreams.presenceInstances ?? singleInstance(upstreams.presence),
    config.gatewayId,
    () => registry.sessions(),
    (update) => {
      if (!update.presence) return;
      const frame = create(ServerFrameSchema, { body: { case: "presence", value: update.presence } });
      for (const deviceId of update.deviceIds) for (const socket of registry.socketsOf(deviceId)) socket.write(frame);
    },
    config.upstreamTimeoutMs,
    logger,
  );
  // Presence's answers reach devices as error frames: an outage is told in words, never the transport's text.
  const presenceErrors = new ErrorTranslator(() => undefined, logger);
  const presencePort = {
    connected: (userId: bigint, deviceId: bigint) => presenceLink.connected(userId, deviceId),
    disconnected: (userId: bigint, deviceId: bigint) => presenceLink.disconnected(userId, deviceId),
    heartbeat: (userId: bigint, deviceId: bigint) => presenceLink.heartbeat(userId, deviceId),
    getPresence: async (viewerId: bigint, userIds: bigint[]) => {
      try {
        return await presenceLink.getPresence(viewerId, userIds);
      } catch (err) {
        throw presenceErrors.status(dependencyFailure("the presence service", err), `${PresenceService.typeName}/GetPresence`);
      }
    },
  };
  const webAppDir = config.webApp ? deps.webAppDir : undefined;
  const server = await startServer({
    host: config.host,
    port: config.port,
    backlog: config.listenBacklog,
    accessLog: true,
    // Browser pages on the WebSocket's allowed origins may call the HTTP API too (sign up, log in);
    // the web app's files are answered before the API's routes.
    beforeRoutes:
      webAppDir === undefined ? corsFilter(config.allowedOrigins) : composeFilters(corsFilter(config.allowedOrigins), webAppFilter(webAppDir, logger)),
    routes: (router) => {
      gatewayRoutes({ account: upstreams.account }, config.upstreamTimeoutMs)(router);
      discovery.publicRoutes(router);
    },
    serviceNames: [...gatewayServiceNames, ...discovery.serviceNames],
    logger,
    metrics,
    // Forwarded calls' outages and PickGateway's domain errors become statuses; nothing unexpected leaks its text.
    interceptors: [errorInterceptor(mapDiscoveryError, logger)],
    readMaxBytes: config.maxRequestBytes,
    // The end user's address (behind trusted proxies, from X-Forwarded-For), forwarded to account for its brute-force limits.
    contextValues: clientAddressContext(new TrustedProxies(config.trustedProxies)),
    ...(deps.readiness ? { readiness: deps.readiness } : {}),
    ...(deps.publicTls ? { tls: deps.publicTls } : {}),
  });
  const websocket = attachWebSocket(
    server.http1,
    {
      allowedOrigins: config.allowedOrigins,
      // The web app's page is on the gateway's own origin: its WebSocket needs no allowlist entry.
      allowSameOrigin: webAppDir !== undefined,
      maxFrameBytes: config.maxFrameBytes,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      limits: {
        framesPerSecond: config.framesPerSecond,
        frameBurst: config.frameBurst,
        rateStrikes: config.frameBurst,
        sendBufferBytes: config.sendBufferBytes,
        maxInFlight: config.userMaxInFlight,
        maxQueued: config.userMaxQueued,
      },
      maxSocketsPerDevice: config.maxSocketsPerDevice,
      maxSocketsPerUser: config.maxSocketsPerUser,
    },
    { account: upstreams.account, chatTransport: upstreams.chat, chatLink, registry, logger, presence: presencePort, meter: counters.meter },
  );
  counters.countConnections(() => websocket.connections);
  const stopWatch = watchLogOuts(upstreams.accountInstances ?? singleInstance(upstreams.account), websocket, logger);
  chatLink.connect();
  presenceLink.connect();
  const bound = new URL(server.url);
  const registration = await registerGateway(
    deps.registry,
    {
      instanceId: config.gatewayId,
      address: internal ? (config.deliverAddress ?? new URL(internal.url).host) : bound.host,
      zone: config.registry.zone,
      capacity: config.capacity,
      publicUrl: config.publicUrl ?? `${deps.publicTls ? "wss" : "ws"}://${bound.host}/ws`,
    },
    () => registry.size,
    logger,
  );
  return {
    server,
    internal,
    websocket,
    deliverRoutes,
    async close(graceMs) {
      // Not ready from the first moment (/readyz, health): balancers stop sending new
      // connections while the sockets are told to go, which can take SOCKET_CLOSE_WAIT_MS.
      server.health.drain();
      internal?.health.drain();
      // Out of PickGateway's choices first, so clients told to reconnect land elsewhere.
      await registration.markDraining();
      stopWatch();
      await websocket.drain();
      await registration.close();
      await discovery.close();
      chatLink.close();
      presenceLink.close();
      await Promise.all([server.close(graceMs), internal?.close(graceMs)]);
    },
  };
}

/**
 * Follows account events, closing the sockets of ended sessions and
 * logged-out devices. Each account instance announces only what happened on
 * it, so every instance is followed; a broken stream is opened again.
 */
function watchLogOuts(accounts: InstanceSource, websocket: WebSocketEndpoint, logger: Logger): () => void {
  const watch = followEveryInstance(
    accounts,
    async (transport, signal) => {
      for await (const event of createClient(AccountInternalService, transport).watchAccountEvents({}, { signal })) {
        if (event.event.case === "sessionsEnded") websocket.endSessions(event.event.value);
        else if (event.event.case === "deviceLoggedOut") websocket.logOut(event.event.value.userId, event.event.value.deviceId);
      }
    },
    { onError: (err, address) => logger.warn({ err, address }, "account event watch broke; retrying") },
  );
  return () => watch.close();
}

/**
 * The gateway as its own process: the public API and WebSocket on PORT,
 * DeliverService (for chat only) on the internal port. With ETCD_ENDPOINTS
 * it finds the services and registers itself through etcd (retrying etcd at
 * start with capped, jittered backoff); without, it uses the configured
 * addresses and an in-memory registry holding only itself.
 */
export const gatewayProcess: ServiceDefinition<GatewayConfig> = {
  name: "gateway",
  loadConfig: loadGatewayConfig,
  logLevel: (config) => config.logLevel,
  // Its sockets get SOCKET_CLOSE_WAIT_MS to close before the servers' grace period starts.
  shutdownBudgetMs: (config) => SOCKET_CLOSE_WAIT_MS + config.shutdownGraceMs,
  async start(config, logger) {
    const plane = openInternalPlane(config.plane, "gateway", logger, { listenHosts: [config.internalHost] });
    const publicTls = config.publicTls && new ServerTls(config.publicTls, logger, config.plane.reloadMs);
    const metrics = new Metrics();
    const mesh = await joinMesh(config.registry, logger, (address, service) => plane.transport(address, service), metrics.etcdError);
    const registry = mesh.backend?.registry ?? new MemoryRegistry();
    const readiness = new ReadinessChecks(config.readiness, logger);
    // Every new connection's token is checked by account: a gateway that cannot reach one can take none.
    readiness.register("account", upstreamProbe(mesh.transportTo("account", config.accountAddress), AccountInternalService.typeName));
    const gateway = await startGateway(
      config,
      {
        account: mesh.transportTo("account", config.accountAddress),
        accountInstances: { current: mesh.instancesOf("account", config.accountAddress), transport: (address) => plane.transport(address, "account") },
        chat: mesh.transportTo("chat", config.chatAddress),
        chatInstances: { current: mesh.instancesOf("chat", config.chatAddress), transport: (address) => plane.transport(address, "chat") },
        presence: mesh.transportTo("presence", config.presenceAddress),
        presenceInstances: { current: mesh.instancesOf("presence", config.presenceAddress), transport: (address) => plane.transport(address, "presence") },
      },
      { logger, metrics, plane, registry, readiness, ...(publicTls ? { publicTls } : {}) },
    );
    readiness.start();
    return {
      ready: { message: "gateway listening", fields: { url: gateway.server.url, deliver: gateway.internal?.url, mesh: mesh.description } },
      async stop() {
        readiness.close();
        await gateway.close(config.shutdownGraceMs);
        await mesh.close();
        if (mesh.backend === undefined) await registry.close();
        publicTls?.close();
        plane.close();
      },
    };
  },
};
