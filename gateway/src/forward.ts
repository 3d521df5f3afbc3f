import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { CLIENT_ADDRESS_HEADER, clientAddressKey, dependencyFailure, DependencyUnavailable } from "@parley/runtime";

/**
 * Request headers the public API passes on to the service behind it. Only
 * these: a client's own parley-client-address (or any other internal header)
 * never reaches the services.
 */
const FORWARDED_HEADERS = ["authorization"];

/** Response metadata of a refusal that reaches the client too: the retry hint of a throttled call. */
const RELAYED_ERROR_METADATA = ["retry-after"];

/**
 * Serves a public service by forwarding each unary call to the internal
 * service of the same contract, with the caller's credentials and
 * cancellation, and the client's address (set in the call's context from
 * the connection, see client-address.ts) in the parley-client-address
 * header, which account's brute-force limits count by. The service behind phrases its statuses for client
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
      call(req, { headers: forwardedHeaders(context), signal: context.signal, timeoutMs }).catch((err: unknown) => {
        // Cancelled though our client did not cancel: the upstream instance went away mid-call (it reset the stream).
        if (ConnectError.from(err).code === Code.Canceled && !context.signal.aborted) throw new DependencyUnavailable(upstream, { cause: err });
        throw dependencyFailure(upstream, relayed(err));
      });
  }
  return impl as Partial<ServiceImpl<S>>;
}

function forwardedHeaders(context: HandlerContext): Headers {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = context.requestHeader.get(name);
    if (value !== null) headers.set(name, value);
  }
  const address = context.values.get(clientAddressKey);
  if (address !== undefined && address !== "") headers.set(CLIENT_ADDRESS_HEADER, address);
  return headers;
}

/**
 * A status from the service behind, as the client is to see it. Connect
 * drops the metadata of an error that came off the wire when it is thrown
 * again (only its code, message and details travel on), so the few headers
 * meant for the client are copied onto a fresh error.
 */
function relayed(err: unknown): unknown {
  if (!(err instanceof ConnectError) || !err.isWireError) return err;
  const kept = RELAYED_ERROR_METADATA.flatMap((name) => {
    const value = err.metadata.get(name);
    return value === null ? [] : [[name, value] as [string, string]];
  });
  if (kept.length === 0) return err;
  const copy = new ConnectError(err.rawMessage, err.code, kept, undefined, err.cause);
  copy.details = err.details;
  return copy;
}
