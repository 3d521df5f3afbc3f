import type { DescService } from "@bufbuild/protobuf";
import type { Client, HandlerContext, ServiceImpl } from "@connectrpc/connect";

/** Request headers the public API passes on to the service behind it. */
const FORWARDED_HEADERS = ["authorization"];

/**
 * Serves a public service by forwarding each unary call to the internal
 * service of the same contract, with the caller's credentials and
 * cancellation. Statuses (codes and messages) come back unchanged: the
 * service behind already phrases them for client developers.
 */
export function forwardUnary<S extends DescService>(service: S, client: Client<S>, timeoutMs: number): Partial<ServiceImpl<S>> {
  const impl: Record<string, unknown> = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    // The client's method takes (request, options) for every unary method of S;
    // TypeScript cannot follow the mapped type through a loop, hence the cast.
    const call = (client as unknown as Record<string, (req: unknown, options: object) => Promise<unknown>>)[method.localName]!;
    impl[method.localName] = (req: unknown, context: HandlerContext) =>
      call(req, { headers: pickHeaders(context.requestHeader), signal: context.signal, timeoutMs });
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
