import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

/**
 * A client transport to another Parley service over gRPC (HTTP/2, h2c).
 * Sessions are kept alive and reused across calls.
 */
export function grpcTransport(baseUrl: string, interceptors: Interceptor[] = []): Transport {
  return createGrpcTransport({
    baseUrl,
    interceptors,
    pingIntervalMs: 15_000,
    pingIdleConnection: true,
    idleConnectionTimeoutMs: 60_000,
  });
}
