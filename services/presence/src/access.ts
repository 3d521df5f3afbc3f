import { PresenceService } from "@parley/contracts/parley/presence/v1/presence";
import { accessPolicy } from "@parley/runtime";

/** Gateways report sessions and ask for their users' views; chat locates devices to deliver to. */
export const presenceAccess = accessPolicy([
  PresenceService.typeName,
  {
    audience: "presence",
    methods: {
      Sessions: { roles: ["gateway"] },
      GetPresence: { roles: ["gateway"] },
      LocateDevices: { roles: ["chat"] },
      LocateDevicesStream: { roles: ["chat"] },
    },
  },
]);
