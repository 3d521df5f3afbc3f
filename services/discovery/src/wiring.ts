import { mapDiscoveryError, newInstanceId, openDiscoveryBackend, startDiscoveryService, withStartRetry } from "@parley/mesh";
import { Metrics, openInternalPlane, ReadinessChecks, startPlaneServer, type ServiceDefinition } from "@parley/runtime";
import { discoveryAccess } from "./access.js";
import { loadDiscoveryConfig, type DiscoveryConfig } from "./config.js";

/** The discovery process: the registry (etcd or memory), PickGateway and ListInstances on DISCOVERY_PORT, itself registered. */
export const discoveryProcess: ServiceDefinition<DiscoveryConfig> = {
  name: "discovery",
  loadConfig: loadDiscoveryConfig,
  logLevel: (config) => config.logLevel,
  shutdownBudgetMs: (config) => config.shutdownGraceMs,
  async start(config, logger) {
    // Discovery calls no other service: it needs the trust file (for operators), not a key of its own.
    const plane = openInternalPlane(config.plane, "discovery", logger, { listenHosts: [config.host], callsOthers: false });
    const metrics = new Metrics();
    // Reads the etcd TLS files and password now: a bad one stops the start naming its variable.
    const backend = openDiscoveryBackend(config.registry, logger, metrics.etcdError);
    logger.info({ registry: backend.description }, "discovery starting");
    const discovery = await withStartRetry("loading the registry", config.registry, logger, () =>
      startDiscoveryService({ registry: backend.registry, retryAfterMs: config.retryAfterMs }),
    );
    // The registry is all discovery serves from: it is ready while etcd answers.
    const readiness = new ReadinessChecks(config.readiness, logger);
    if (config.registry.etcd) readiness.register("etcd", () => backend.ping());
    const server = await startPlaneServer(plane, {
      host: config.host,
      port: config.port,
      service: discovery,
      access: discoveryAccess,
      mapError: mapDiscoveryError,
      logger,
      metrics,
      readiness,
    });
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
    );
    readiness.start();
    return {
      ready: { message: "discovery listening", fields: { url: server.url, instanceId, registry: backend.description } },
      async stop() {
        readiness.close();
        // Deregister first, so nobody is sent here while the server drains.
        await registration.close().catch((err: unknown) => logger.warn({ err }, "deregistering failed"));
        await server.close(config.shutdownGraceMs);
        await discovery.close();
        await backend.close();
        plane.close();
      },
    };
  },
};
