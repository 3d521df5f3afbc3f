// The mesh library: what every service, the gateway, the discovery process, the standalone launcher and tests use.
export type { Registry, Registration, InstanceUpdate, InstanceWatch, WorkerIdLease } from "./ports.js";
export { WORKER_ID_COUNT } from "./ports.js";
export { GATEWAY_SERVICE, newInstanceId, validateInstance, type InstanceInfo } from "./instance.js";
export {
  DuplicateInstance,
  InvalidInstance,
  mapDiscoveryError,
  NoLiveGateway,
  RegistryAccessDenied,
  RegistryUnavailable,
  WorkerIdsExhausted,
} from "./errors.js";
export { pickGateway } from "./pick-gateway.js";
export { fencingMarginMs, keepAliveIntervalMs, LeaseClock, type Clocks } from "./lease-clock.js";
export { advertiseAddress, etcdEnv, registrySettings, type RegistrySettings } from "./config.js";
export { openDiscoveryBackend, withStartRetry, type DiscoveryBackend } from "./wiring.js";
export { startDiscoveryService, type DiscoveryDeps, type RunningDiscovery } from "./discovery-service.js";
export { connectEtcd, type EtcdAuth, type EtcdConnection, type EtcdSettings, type EtcdTls } from "./adapters/etcd-client.js";
export { EtcdRegistry } from "./adapters/etcd-registry.js";
export { EtcdWorkerIdLease } from "./adapters/etcd-worker-ids.js";
export { MemoryRegistry, MemoryRegistryStore } from "./adapters/memory-registry.js";
export { MemoryWorkerIdLease, MemoryWorkerIdPool } from "./adapters/memory-worker-ids.js";
export { reportLoad } from "./load-reporter.js";
export { registryTransport } from "./registry-transport.js";
export { followEveryInstance, singleInstance, type EveryInstanceOptions, type InstanceSource } from "./every-instance.js";
export { AnnouncedCache, followAccountAnnouncements, type AnnouncedCacheOptions } from "./announced-cache.js";
export { joinMesh, type ConnectTo, type Mesh, type ServiceInstance } from "./mesh.js";
export { addressWeight, Owners, rendezvous } from "./rendezvous.js";
