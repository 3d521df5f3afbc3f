import { retryWithBackoff, type EtcdOperation, type Logger } from "@parley/runtime";
import { connectEtcd } from "./adapters/etcd-client.js";
import { EtcdRegistry } from "./adapters/etcd-registry.js";
import { EtcdWorkerIdLease } from "./adapters/etcd-worker-ids.js";
import { MemoryRegistry } from "./adapters/memory-registry.js";
import { MemoryWorkerIdLease, MemoryWorkerIdPool } from "./adapters/memory-worker-ids.js";
import type { RegistrySettings } from "./config.js";
import { RegistryAccessDenied, RegistryUnavailable } from "./errors.js";
import type { Registry, WorkerIdLease } from "./ports.js";

/** The registry adapters a process uses, chosen once from its configuration. */
export interface DiscoveryBackend {
  readonly registry: Registry;
  /** A new, unclaimed worker-id lease owned by `owner` (an instance id, stored for operators). */
  workerIdLease(owner: string): WorkerIdLease;
  /** "etcd at host:port" or "in-memory", for the start-up log line. */
  readonly description: string;
  /**
   * Resolves once the backend answers a read under this deployment's prefix
   * (so the credentials still work too): the readiness check of the
   * processes that use etcd. Rejects with RegistryUnavailable otherwise.
   */
  ping(): Promise<void>;
  /** Closes the registry (deregistering), then the connection. Close worker-id leases first. */
  close(): Promise<void>;
}

/** `onEtcdError` counts failed etcd calls (Metrics.etcdError). */
export function openDiscoveryBackend(settings: RegistrySettings, logger?: Logger, onEtcdError?: (operation: EtcdOperation) => void): DiscoveryBackend {
  if (settings.etcd === undefined) {
    const pool = new MemoryWorkerIdPool();
    const registry = new MemoryRegistry();
    return {
      registry,
      workerIdLease: () => new MemoryWorkerIdLease(pool),
      description: "in-memory (this process only)",
      ping: async () => {},
      close: () => registry.close(),
    };
  }
  const conn = connectEtcd(settings.etcd, onEtcdError);
  const registry = new EtcdRegistry(conn, logger);
  return {
    registry,
    workerIdLease: (owner) => new EtcdWorkerIdLease(conn, owner, logger),
    description: `etcd at ${conn.endpoints}${settings.etcd.tls ? " over TLS" : ""}${settings.etcd.auth ? ` as user ${settings.etcd.auth.username}` : ""}`,
    async ping() {
      // One key that never exists: the cheapest read etcd answers, checked against the prefix's permissions.
      await conn.ns
        .get("readiness-probe")
        .exec()
        .catch((err: unknown) => {
          throw conn.unavailable("list", "checking readiness", err);
        });
    },
    async close() {
      await registry.close();
      conn.close();
    },
  };
}

/**
 * Runs a start-up step that needs etcd (claim a worker id, register, load a
 * watch), retrying while etcd is unreachable with capped, jittered backoff
 * (250 ms doubling to 10 s) for up to `startTimeoutMs`, each failure logged
 * in plain words. Other errors (all worker ids taken, a bad instance, etcd
 * refusing the credentials) fail at once. Giving up throws an error saying
 * how long it tried.
 */
export async function withStartRetry<T>(what: string, settings: RegistrySettings, logger: Logger, step: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await retryWithBackoff(step, {
      initialMs: 250,
      maxMs: 10_000,
      deadlineMs: settings.startTimeoutMs,
      retryable: (err) => err instanceof RegistryUnavailable && !(err instanceof RegistryAccessDenied),
      onRetry: (err, attempt, delayMs) =>
        logger.warn({ attempt, delayMs, reason: (err as Error).message }, `${what}: etcd unreachable; retrying in ${delayMs} ms`),
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (err) {
    if (err instanceof RegistryUnavailable && !(err instanceof RegistryAccessDenied)) {
      throw new RegistryUnavailable(err.endpoints, `${what}; gave up after ${settings.startTimeoutMs} ms of retries`, { cause: err.cause });
    }
    throw err;
  }
}
