import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { DiscoveryService } from "@parley/contracts/parley/discovery/v1/discovery";
import { InvalidPickRequest, NoLiveGateway } from "./errors.js";
import type { InstanceInfo } from "./instance.js";
import { fallbackGateways, pickGateway } from "./pick-gateway.js";
import type { Registry } from "./ports.js";

export interface DiscoveryDeps {
  registry: Registry;
  /** The retry-after hint of PickGateway when no gateway is live. */
  retryAfterMs: number;
  /** Tie-break source for pickGateway; injectable for tests. */
  random?: () => number;
}

export interface RunningDiscovery {
  routes(router: ConnectRouter): void;
  /** PickGateway alone, for a public port: ListInstances shows internal addresses and stays internal. */
  publicRoutes(router: ConnectRouter): void;
  serviceNames: string[];
  /** Stops following the registry. */
  close(): Promise<void>;
}

/**
 * Builds the DiscoveryService handlers on a watch of every instance: both
 * RPCs answer from memory, without a round trip to etcd, and keep answering
 * from the last known set while etcd is briefly unreachable. Resolves once
 * the first set is loaded, so it rejects with RegistryUnavailable when etcd
 * cannot be reached at all (the discovery process retries it).
 *
 * A library function, not the discovery process's own: the discovery process
 * serves every route, and each gateway serves publicRoutes on its public API.
 */
export async function startDiscoveryService(deps: DiscoveryDeps): Promise<RunningDiscovery> {
  const watch = await deps.registry.watch("");
  const impl: ServiceImpl<typeof DiscoveryService> = {
    pickGateway(req) {
      const problem = avoidUrlsProblem(req.avoidUrls);
      if (problem !== undefined) throw new InvalidPickRequest(problem);
      const gateway = pickGateway(watch.current(), req.zone, deps.random, req.avoidUrls);
      if (gateway === undefined) throw new NoLiveGateway(deps.retryAfterMs);
      const fallbacks = fallbackGateways(watch.current(), gateway, req.zone, deps.random, req.avoidUrls);
      return { url: gateway.publicUrl, instanceId: gateway.instanceId, zone: gateway.zone, fallbackUrls: fallbacks.map((g) => g.publicUrl) };
    },
    listInstances(req) {
      const all = watch.current();
      const instances = req.service === "" ? all : all.filter((i) => i.service === req.service);
      return { instances: instances.map(toMessage) };
    },
  };
  return {
    routes: (router) => router.service(DiscoveryService, impl),
    publicRoutes: (router) => router.service(DiscoveryService, { pickGateway: impl.pickGateway }),
    serviceNames: [DiscoveryService.typeName],
    close: () => watch.close(),
  };
}

function toMessage(instance: InstanceInfo) {
  return { ...instance };
}

/** Most URLs a client may ask to avoid, and the longest one. */
export const AVOID_URLS_MAX = 8;
export const AVOID_URL_MAX_CHARS = 2_048;

function avoidUrlsProblem(urls: readonly string[]): string | undefined {
  if (urls.length > AVOID_URLS_MAX) return `avoid_urls: at most ${AVOID_URLS_MAX} URLs (got ${urls.length})`;
  const long = urls.findIndex((url) => url.length > AVOID_URL_MAX_CHARS);
  return long === -1 ? undefined : `avoid_urls[${long}]: at most ${AVOID_URL_MAX_CHARS} characters`;
}
