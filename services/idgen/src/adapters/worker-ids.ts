import { newInstanceId, openDiscoveryBackend, withStartRetry, type DiscoveryBackend, type Registration } from "@parley/mesh";
import type { EtcdOperation, Logger, ReadinessChecks } from "@parley/runtime";
import type { IdgenConfig } from "../config.js";
import type { WorkerIdSource } from "../ports.js";

/** Where this process's worker id comes from, and its place in the registry. */
export interface IdgenIdentity {
  readonly instanceId: string;
  /** A fixed number (embedded mode, IDGEN_WORKER_ID) or the etcd lease. */
  readonly workerId: number | WorkerIdSource;
  /** Called with the worker id, or undefined while fenced, whenever that changes (never for a fixed id). */
  onChange(listener: (workerId: number | undefined) => void): void;
  /**
   * Registers the readiness check of the leased worker id (none for a fixed
   * one): etcd answers and the lease is not fenced, since a fenced idgen
   * refuses every NextIds.
   */
  addReadinessChecks(readiness: ReadinessChecks): void;
  /** Registers the listening instance (no-op without etcd). */
  register(address: string): Promise<void>;
  /** Leaves the registry, so no new caller is sent here (no-op without etcd). */
  deregister(): Promise<void>;
  /** Frees the worker id (revoke) and closes the etcd connection: only once no more IDs are issued. */
  close(): Promise<void>;
}

/**
 * Without etcd: the fixed worker id and no registry. With etcd: claims the
 * lowest free worker id, retrying while etcd is unreachable (up to
 * DISCOVERY_START_TIMEOUT_MS); fails at once, in plain words, when all 1,024
 * are taken. Logs whenever the lease is fenced or the id changes.
 */
export async function openIdentity(config: IdgenConfig, logger: Logger, onEtcdError?: (operation: EtcdOperation) => void): Promise<IdgenIdentity> {
  const instanceId = newInstanceId("idgen");
  if (!config.leaseWorkerId) {
    const noop = async () => {};
    return { instanceId, workerId: config.workerId, onChange: () => {}, addReadinessChecks: () => {}, register: noop, deregister: noop, close: noop };
  }
  const backend: DiscoveryBackend = openDiscoveryBackend(config.registry, logger, onEtcdError);
  const lease = backend.workerIdLease(instanceId);
  try {
    const workerId = await withStartRetry("claiming a worker id", config.registry, logger, () => lease.claim());
    logger.info({ workerId, instanceId, registry: backend.description }, "worker id leased");
  } catch (err) {
    await backend.close();
    throw err;
  }
  lease.onChange((workerId) => {
    if (workerId === undefined) logger.warn("worker id lease fenced; refusing to issue ids until it is confirmed or claimed again");
    else logger.info({ workerId }, "issuing ids with worker id");
  });
  let registration: Registration | undefined;
  return {
    instanceId,
    workerId: lease,
    onChange: (listener) => void lease.onChange(listener),
    addReadinessChecks(readiness) {
      readiness.register("etcd", async () => {
        if (lease.current() === undefined) throw new Error("the worker id lease is fenced");
        await backend.ping();
      });
    },
    async register(address) {
      registration = await withStartRetry("registering", config.registry, logger, () =>
        backend.registry.register({
          service: "idgen",
          instanceId,
          address,
          zone: config.registry.zone,
          load: 0,
          capacity: 0,
          draining: false,
          publicUrl: "",
        }),
      );
    },
    async deregister() {
      await registration?.close().catch((err: unknown) => logger.warn({ err }, "deregistering failed"));
    },
    async close() {
      await lease.close();
      await backend.close();
    },
  };
}
