import { DeliverService } from "@parley/contracts/parley/gateway/v1/deliver";
import { accessPolicy } from "@parley/runtime";

/** Only chat writes frames to the gateway's sockets. */
export const deliverAccess = accessPolicy([DeliverService.typeName, { audience: "gateway", methods: { Deliver: { roles: ["chat"] } } }]);
