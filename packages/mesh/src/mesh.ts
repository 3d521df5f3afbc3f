import type { Transport } from "@connectrpc/connect";
import type { EtcdOperation, Logger, ReadinessChecks } from "@parley/runtime";
import type { RegistrySettings } from "./config.js";
import { newInstanceId, validateInstance } from "./instance.js";
import type { InstanceWatch, Registration } from "./ports.js";
import { registryTransport } from "./registry-transport.js";
import { openDiscoveryBackend, withStartRetry, type DiscoveryBackend } from "./wiring.js";

/** A service process's place in the mesh: how it reaches the others, and how it announces itself. */
export interface Mesh {
  /** "etcd at ..." or "static addresses", for the start-up log line. */
  readonly description: string;
  /** The registry backend, for processes that need more (gateways register with a public URL). */
  readonly backend: DiscoveryBackend | undefined;
  /** A transport to `service`: through the registry with etcd, else to the configured address. */
  transportTo(service: string, configuredAddress: string): Transport;
  /**
   * Every instance of `service` as the registry shows it now (read on each
   * call; the last known set while etcd is unreachable), for a client that
   * keeps a link to each instance rather than one call at a time; without
   * etcd, the configured address alone.
   */
  instancesOf(service: string, configuredAddress: string): () => readonly ServiceInstance[];
  /** Registers this process (with etcd; a no-op with static addresses). */
  register(service: string, address: string): Promise<void>;
  /** True while this process's registrations are certainly live (Registry.holdsLease); always true with static addresses. */
  holdsLease(): boolean;
  /** Registers the mesh's readiness check: etcd answering (none with static addresses). */
  addReadinessChecks(readiness: ReadinessChecks): void;
  /** Deregisters and stops following the registry. */
  close(): Promise<void>;
}

/** One instance of a service, as a client that links to every instance needs it. */
export interface ServiceInstance {
  address: string;
  /** True while it shuts down: no new work goes to it. */
  draining: boolean;
}

/** Opens a client transport to `service` at `address` (host:port or URL): the internal plane's authenticated transport. */
export type ConnectTo = (address: string, service: string) => Transport;

/**
 * Joins the mesh. With ETCD_ENDPOINTS (settings.etcd) every internal client
 * resolves its service through one watch of the registry and this process
 * registers under its lease; etcd unreachable at start is retried with
 * capped, jittered backoff. Without etcd, services are reached at their
 * configured addresses, as before discovery existed.
 */
export async function joinMesh(
  settings: RegistrySettings,
  logger: Logger,
  connect: ConnectTo,
  /** Counts failed etcd calls (Metrics.etcdError). */
  onEtcdError?: (operation: EtcdOperation) => void,
): Promise<Mesh> {
  if (settings.etcd === undefined) {
    return {
      description: "static addresses",
      backend: undefined,
      transportTo: (service, address) => connect(address, service),
      instancesOf: (_, address) => {
        const fixed = [{ address, draining: false }];
        return () => fixed;
      },
      register: async () => {},
      holdsLease: () => true,
      addReadinessChecks: () => {},
      close: async () => {},
    };
  }
  const backend = openDiscoveryBackend(settings, logger, onEtcdError);
  const watch: InstanceWatch = await withStartRetry("joining the mesh", settings, logger, () => backend.registry.watch(""));
  const registrations: Registration[] = [];
  return {
    description: backend.description,
    backend,
    transportTo: (service) =>
      registryTransport(
        service,
        () => watch.current(),
        (url) => connect(url, service),
      ),
    instancesOf: (service) => () => watch.current().filter((instance) => instance.service === service),
    async register(service, address) {
      const instance = validateInstance({ service, instanceId: newInstanceId(service), address, zone: settings.zone });
      registrations.push(await withStartRetry(`registering ${service}`, settings, logger, () => backend.registry.register(instance)));
    },
    holdsLease: () => backend.registry.holdsLease(),
    addReadinessChecks: (readiness) => readiness.register("etcd", () => backend.ping()),
    async close() {
      for (const registration of registrations) await registration.close().catch(() => undefined);
      await watch.close();
      await backend.close();
    },
  };
}
