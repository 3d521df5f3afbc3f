import { Metrics, openInternalPlane, ReadinessChecks, ServingStatus, startPlaneServer, type ServiceDefinition } from "@parley/runtime";
import { idgenAccess } from "./access.js";
import { systemClock } from "./adapters/system-clock.js";
import { loadIdgenConfig, type IdgenConfig } from "./config.js";
import { mapIdgenError } from "./errors.js";
import type { WorkerIdSource } from "./ports.js";
import { createIdgenService } from "./server.js";
import { SnowflakeGenerator } from "./domain/snowflake.js";
import { openIdentity } from "./adapters/worker-ids.js";

/** What the ID service needs: its worker id (fixed, or the etcd lease) and how far back the clock may step before it refuses. */
export interface IdgenOptions {
  workerId: number | WorkerIdSource;
  maxClockBackwardMs: number;
}

/** The ID service's composition root: the Snowflake generator on the system clock, and its handlers. */
export function startIdgen(options: IdgenOptions): ReturnType<typeof createIdgenService> {
  return createIdgenService({
    generator: new SnowflakeGenerator({ workerId: options.workerId, clock: systemClock, maxBackwardMs: options.maxClockBackwardMs }),
  });
}

/** The idgen process: its worker id (fixed or leased in etcd), the generator, the server, its place in the registry. */
export const idgenProcess: ServiceDefinition<IdgenConfig> = {
  name: "idgen",
  loadConfig: loadIdgenConfig,
  logLevel: (config) => config.logLevel,
  shutdownBudgetMs: (config) => config.shutdownGraceMs,
  async start(config, logger) {
    // idgen calls no other service: it needs the trust file, not a key of its own.
    const plane = openInternalPlane(config.plane, "idgen", logger, { listenHosts: [config.host], callsOthers: false });
    const metrics = new Metrics();
    const identity = await openIdentity(config, logger, metrics.etcdError);
    const service = startIdgen({ workerId: identity.workerId, maxClockBackwardMs: config.maxClockBackwardMs });
    const readiness = new ReadinessChecks(config.readiness, logger);
    identity.addReadinessChecks(readiness);
    const server = await startPlaneServer(plane, {
      host: config.host,
      port: config.port,
      service,
      access: idgenAccess,
      mapError: mapIdgenError,
      logger,
      metrics,
      readiness,
    });
    // While fenced, health says NOT_SERVING, so balancers and clients go to another instance.
    identity.onChange((id) => {
      for (const name of service.serviceNames) server.health.set(name, id === undefined ? ServingStatus.NOT_SERVING : ServingStatus.SERVING);
    });
    await identity.register(config.advertiseAddress ?? new URL(server.url).host);
    readiness.start();
    const workerId = typeof identity.workerId === "number" ? identity.workerId : identity.workerId.current();
    return {
      ready: { message: "idgen listening", fields: { url: server.url, workerId, instanceId: identity.instanceId } },
      async stop() {
        readiness.close();
        await identity.deregister();
        await server.close(config.shutdownGraceMs);
        // After the last call is answered: freeing the worker id earlier could let
        // another instance take it while this one still issues IDs.
        await identity.close();
        plane.close();
      },
    };
  },
};
