import { createClient, type ConnectRouter, type Transport } from "@connectrpc/connect";
import { AccountService } from "@parley/contracts/parley/account/v1/account";
import { forwardUnary } from "./forward.js";

export interface GatewayUpstreams {
  /** Where the account service is: gRPC in the distributed mode, in-process in the embedded one. */
  account: Transport;
}

/**
 * The public HTTP API: the routes the gateway serves to clients. Only public
 * contracts appear here; internal services (AccountInternalService, idgen)
 * are never reachable through the gateway.
 */
export function gatewayRoutes(upstreams: GatewayUpstreams, upstreamTimeoutMs: number): (router: ConnectRouter) => void {
  const account = createClient(AccountService, upstreams.account);
  return (router) => {
    router.service(AccountService, forwardUnary(AccountService, account, upstreamTimeoutMs, "the account service"));
  };
}

export const gatewayServiceNames = [AccountService.typeName];
