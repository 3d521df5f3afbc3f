import type { DescService } from "@bufbuild/protobuf";
import type { Client, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { dependencyFailure } from "@parley/runtime";

/** Request headers the public API passes on to the service behind it. */
const FORWARDED_HEADERS = ["authorization"];

/**
 * Serves a public service by forwarding each unary call to the internal
 * service of the same contract, with the caller's credentials and
 * cancellation. The service behind phrases its statuses for client
 * developers, so they come back unchanged, except when it could not be
 * reached or answer in time: that becomes DependencyUnavailable naming
 * `upstream` ("the account service"), because the transport's text names
 * internal addresses ("connect ECONNREFUSED 127.0.0.1:7001"). The server's
 * error interceptor turns it into UNAVAILABLE and logs the cause.
 */
export function forwardUnary<S extends DescService>(service: S, client: Client<S>, timeoutMs: number, upstream: string): Partial<ServiceImpl<S>> {
  const impl: Record<string, unknown> = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    // The client's method takes (request, options) for every unary method of S;
    // TypeScript cannot follow the mapped type through a loop, hence the cast.
    const call = (client as unknown as Record<string, (req: unknown, options: object) => Promise<unknown>>)[method.localName]!;
    impl[method.localName] = (req: unknown, context: HandlerContext) =>
      call(req, { headers: pickHeaders(context.requestHeader), signal: context.signal, timeoutMs }).catch((err: unknown) => {
        throw dependencyFailure(upstream, err);
      });
  }
  return impl as Partial<ServiceImpl<S>>;
}

function pickHeaders(incoming: Headers): Headers {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = incoming.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}
