import { PresenceService } from "@parley/contracts/parley/presence/v1/presence";
import { accessPolicy } from "@parley/runtime";

/**
 * Gateways report sessions and ask for their users' views; chat locates devices to deliver to;
 * presence instances relay status changes to one another and ask one another for their users' presence.
 */
export const presenceAccess = accessPolicy([
  PresenceService.typeName,
  {
    audience: "presence",
    methods: {
      Sessions: { roles: ["gateway"] },
      GetPresence: { roles: ["gateway", "presence"] },
      RelayStatuses: { roles: ["presence"] },
      LocateDevices: { roles: ["chat"] },
      LocateDevicesStream: { roles: ["chat"] },
    },
  },
]);
