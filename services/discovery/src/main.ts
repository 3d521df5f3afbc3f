import { mapDiscoveryError, newInstanceId, openDiscoveryBackend, startDiscoveryService, withStartRetry } from "@parley/mesh";
import { createLogger, errorInterceptor, exitOnSignal, failStartup, Metrics, openInternalPlane, startServer } from "@parley/runtime";
import { discoveryAccess } from "./access.js";
import { loadDiscoveryConfig, type DiscoveryConfig } from "./config.js";

// The discovery process: configuration, registry, listen, register itself, graceful stop.
const config = loadConfigOrFail();
const logger = createLogger("discovery", config.logLevel);
// Discovery calls no other service: it needs the trust file (for operators), not a key of its own.
const plane = attemptOrFail(() => openInternalPlane(config.plane, "discovery", logger, { listenHosts: [config.host], callsOthers: false }));
// Reads the etcd TLS files and password now: a bad one stops the start naming its variable.
const backend = attemptOrFail(() => openDiscoveryBackend(config.registry, logger));
logger.info({ registry: backend.description }, "discovery starting");

const discovery = await withStartRetry("loading the registry", config.registry, logger, () =>
  startDiscoveryService({ registry: backend.registry, retryAfterMs: config.retryAfterMs }),
).catch((err: unknown) => failStartup(logger, err));

const server = await startServer({
  host: config.host,
  port: config.port,
  routes: discovery.routes,
  serviceNames: discovery.serviceNames,
  logger,
  metrics: new Metrics(),
  interceptors: [plane.guard(discoveryAccess), errorInterceptor(mapDiscoveryError, logger)],
  ...(plane.serverTls ? { tls: plane.serverTls } : {}),
}).catch((err: unknown) => failStartup(logger, err));

const instanceId = newInstanceId("discovery");
const registration = await withStartRetry("registering", config.registry, logger, () =>
  backend.registry.register({
    service: "discovery",
    instanceId,
    address: config.advertiseAddress ?? new URL(server.url).host,
    zone: config.registry.zone,
    load: 0,
    capacity: 0,
    draining: false,
    publicUrl: "",
  }),
).catch((err: unknown) => failStartup(logger, err));

logger.info({ url: server.url, instanceId, registry: backend.description }, "discovery listening");
exitOnSignal(
  logger,
  async () => {
    // Deregister first, so nobody is sent here while the server drains.
    await registration.close().catch((err: unknown) => logger.warn({ err }, "deregistering failed"));
    await server.close(config.shutdownGraceMs);
    await discovery.close();
    await backend.close();
    plane.close();
  },
  config.shutdownGraceMs + 5_000,
);

function attemptOrFail<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    failStartup(logger, err);
  }
}

function loadConfigOrFail(): DiscoveryConfig {
  try {
    return loadDiscoveryConfig();
  } catch (err) {
    failStartup(undefined, err); // ConfigError: no logger yet, so plain words on stderr
  }
}
