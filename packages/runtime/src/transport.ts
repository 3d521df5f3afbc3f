import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { ClientTls } from "./tls.js";
import { tracingClientInterceptor } from "./tracing.js";

/**
 * A client transport to another Parley service over gRPC: HTTP/2 over TLS
 * (verified against `tls`'s CA bundle) when `tls` is given and the URL is
 * https, else cleartext h2c. Sessions are kept alive and reused across calls.
 * No compression either way: Connect's clients accept gzip by default, so
 * servers deflated every message over 1 KiB (a chat stream's replies,
 * idgen's blocks) on a network where bytes are cheap and CPU is not.
 * Unary calls carry the caller's trace and request id (./tracing.ts).
 */
export function grpcTransport(baseUrl: string, interceptors: Interceptor[] = [], tls?: ClientTls): Transport {
  return createGrpcTransport({
    baseUrl,
    interceptors: [tracingClientInterceptor(), ...interceptors],
    acceptCompression: [],
    pingIntervalMs: 15_000,
    pingIdleConnection: true,
    idleConnectionTimeoutMs: 60_000,
    ...(tls && baseUrl.startsWith("https:") ? { nodeOptions: { createConnection: (authority: URL) => tls.connect(authority) } } : {}),
  });
}
