import {
  create,
  type DescMessage,
  type DescMethod,
  type DescMethodStreaming,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  createMethodImplSpec,
  createServiceImplSpec,
  type ConnectRouter,
  type ContextValues,
  type Interceptor,
  type MethodImplSpec,
  type StreamResponse,
  type Transport,
  type UnaryResponse,
} from "@connectrpc/connect";
import { invokeUnaryImplementation, transformInvokeImplementation } from "@connectrpc/connect/protocol";

/**
 * A transport that calls another component's handlers in the same process
 * directly: the caller's message objects reach the handler as they are and
 * the handler's replies come back as they are, with no protobuf encoding, no
 * envelopes and no byte streams in between (Connect's router transport does
 * all three, which cost about a quarter of the embedded mode's CPU per
 * message). The server interceptors (the access guard, the error mapping)
 * run exactly as they do behind a real server, on the same request shape.
 *
 * Messages are shared, not copied: neither side may change a message after
 * handing it over, which Parley's code never does (messages are built, sent
 * and read).
 */
export function directTransport(routes: (router: ConnectRouter) => void, interceptors: readonly Interceptor[] = []): Transport {
  const specs = collectSpecs(routes);
  const chain = [...interceptors];
  const specOf = (method: DescMethod): MethodImplSpec => {
    const spec = specs.get(methodKey(method));
    if (spec === undefined) throw new ConnectError(`${method.parent.typeName}.${method.name} is not served here`, Code.Unimplemented);
    return spec;
  };

  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: ConstructorParameters<typeof Headers>[0] | undefined,
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const context = handlerContext(method, signal, timeoutMs, header, contextValues);
      try {
        const spec = specOf(method);
        if (spec.kind !== "unary") throw new ConnectError(`${method.name} is not a unary method`, Code.Internal);
        const work = invokeUnaryImplementation(spec, context, create(method.input, input), chain);
        // Without a caller's signal or a deadline nothing but the call's own end can abort it: no race to set up.
        const message = await (signal === undefined && timeoutMs === undefined ? work : untilAborted(work, context.signal));
        return {
          stream: false,
          service: method.parent,
          method,
          header: context.responseHeader,
          trailer: context.responseTrailer,
          message: message as UnaryResponse<I, O>["message"],
        };
      } catch (err) {
        throw ConnectError.from(err, Code.Internal);
      } finally {
        // A handler's signal ends with its call, as behind a server: work it started for the call stops.
        context.abort(CALL_ENDED);
      }
    },

    async stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: ConstructorParameters<typeof Headers>[0] | undefined,
      input: AsyncIterable<MessageInitShape<I>>,
      contextValues?: ContextValues,
    ): Promise<StreamResponse<I, O>> {
      const spec = specOf(method);
      const context = handlerContext(method, signal, timeoutMs, header, contextValues);
      const output = transformInvokeImplementation(spec, context, chain)(messages(method.input, input));
      return {
        stream: true,
        service: method.parent,
        method,
        header: context.responseHeader,
        trailer: context.responseTrailer,
        message: ended(output, context) as AsyncIterable<StreamResponse<I, O>["message"] extends AsyncIterable<infer M> ? M : never>,
      };
    },
  };
}

/**
 * The reason a finished call's signal carries. One shared value: an abort
 * without a reason builds a DOMException with a stack trace on every call,
 * which showed in the profile.
 */
const CALL_ENDED = new ConnectError("the call has ended", Code.Canceled);

/** Reads the implementations a routes function registers, without building HTTP handlers for them. */
function collectSpecs(routes: (router: ConnectRouter) => void): Map<string, MethodImplSpec> {
  const specs = new Map<string, MethodImplSpec>();
  const router: ConnectRouter = {
    handlers: [],
    service(service: DescService, implementation: object) {
      const spec = createServiceImplSpec(service, implementation as never);
      for (const method of service.methods) specs.set(methodKey(method), spec.methods[method.localName]!);
      return router;
    },
    rpc(method: DescMethod, impl: unknown) {
      specs.set(methodKey(method), createMethodImplSpec(method as never, impl as never) as MethodImplSpec);
      return router;
    },
  } as ConnectRouter;
  routes(router);
  return specs;
}

const methodKey = (method: DescMethod) => `${method.parent.typeName}/${method.name}`;

function handlerContext(
  method: DescMethod,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  header: ConstructorParameters<typeof Headers>[0] | undefined,
  contextValues: ContextValues | undefined,
) {
  return createHandlerContext({
    service: method.parent,
    method,
    protocolName: "in-process",
    requestMethod: "POST",
    url: `/${method.parent.typeName}/${method.name}`,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(signal ? { requestSignal: signal } : {}),
    requestHeader: header ?? {},
    contextValues: contextValues ?? createContextValues(),
  });
}

/** The caller's messages as full messages of the input type (a message object passes through untouched). */
async function* messages<I extends DescMessage>(schema: I, input: AsyncIterable<MessageInitShape<I>>) {
  for await (const message of input) yield create(schema, message);
}

/**
 * The handler's output for the caller. Errors reach the caller as
 * ConnectErrors, as they would from a server; when the caller's signal or
 * the deadline aborts the call, the reader fails at once (the handler may
 * be waiting on something else) and the handler is told through its signal.
 * The handler's signal also fires when the stream ends.
 */
function ended<T>(output: AsyncIterable<T>, context: { readonly signal: AbortSignal; abort(reason?: unknown): void }): AsyncIterable<T> {
  const inner = output[Symbol.asyncIterator]();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    context.abort(CALL_ENDED);
    void inner.return?.().catch(() => {});
  };
  return {
    [Symbol.asyncIterator]: () => ({
      async next(): Promise<IteratorResult<T>> {
        if (finished) return { done: true, value: undefined };
        try {
          const result = await untilAborted(inner.next(), context.signal);
          if (result.done === true) finish();
          return result;
        } catch (err) {
          finish();
          throw ConnectError.from(err, Code.Internal);
        }
      },
      async return(): Promise<IteratorResult<T>> {
        finish();
        return { done: true, value: undefined };
      },
    }),
  };
}

/** Settles with `work`, or rejects when the call's deadline passes or its caller gives up first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

function abortReason(signal: AbortSignal): ConnectError {
  const reason: unknown = signal.reason;
  if (reason instanceof ConnectError) return reason;
  return new ConnectError("the call was cancelled", Code.Canceled, undefined, undefined, reason);
}
