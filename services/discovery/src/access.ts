import { DiscoveryService } from "@parley/contracts/parley/discovery/v1/discovery";
import { accessPolicy } from "@parley/runtime";

/**
 * PickGateway is what clients ask before they connect, so it is public;
 * ListInstances shows internal addresses and is for operators only.
 */
export const discoveryAccess = accessPolicy([
  DiscoveryService.typeName,
  { audience: "discovery", methods: { PickGateway: { roles: "public" }, ListInstances: { roles: ["operator"] } } },
]);
