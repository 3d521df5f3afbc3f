import type { Interceptor } from "@connectrpc/connect";
import { SERVICE_TOKEN_HEADER } from "./principals.js";
import type { ServiceTokenSigner } from "./service-tokens.js";

/** Attaches this process's service token for `audience` to every call a client makes. */
export function serviceTokenInterceptor(signer: ServiceTokenSigner, audience: string): Interceptor {
  return (next) => async (req) => {
    req.header.set(SERVICE_TOKEN_HEADER, await signer.token(audience));
    return next(req);
  };
}
