import { GATEWAY_SERVICE, reportLoad, startDiscoveryService, validateInstance, type Registration, type Registry } from "@parley/mesh";
import type { Logger } from "@parley/runtime";

/** How often the gateway publishes its connection count. */
export const LOAD_REPORT_MS = 5_000;
/** PickGateway's retry hint when no gateway is live. */
const RETRY_AFTER_MS = 5_000;

export interface GatewayListing {
  instanceId: string;
  /** host:port chat and tools reach this gateway's gRPC server at. */
  address: string;
  zone: string;
  capacity: number;
  publicUrl: string;
}

export interface GatewayRegistration {
  /** Tells the registry no new client should come here (PickGateway skips draining gateways). */
  markDraining(): Promise<void>;
  /** Deregisters: the gateway leaves the registry at once. */
  close(): Promise<void>;
}

/** DiscoveryService from a watch of the registry; the public HTTP API serves its publicRoutes (PickGateway only). */
export function servePickGateway(registry: Registry) {
  return startDiscoveryService({ registry, retryAfterMs: RETRY_AFTER_MS });
}

/**
 * The gateway in the registry: registered under its lease with its address,
 * zone, capacity and public URL, its connection count published every
 * LOAD_REPORT_MS, and draining announced before it tells clients to go.
 */
export async function registerGateway(registry: Registry, listing: GatewayListing, connections: () => number, logger: Logger): Promise<GatewayRegistration> {
  const registration: Registration = await registry.register(validateInstance({ service: GATEWAY_SERVICE, ...listing, load: connections() }));
  const stopReporting = reportLoad(registration, connections, LOAD_REPORT_MS, logger);
  return {
    async markDraining() {
      stopReporting();
      await registration.update({ draining: true }).catch((err: unknown) => logger.warn({ err }, "could not mark the gateway draining in the registry"));
    },
    async close() {
      stopReporting();
      await registration.close().catch((err: unknown) => logger.warn({ err }, "could not deregister the gateway"));
    },
  };
}
