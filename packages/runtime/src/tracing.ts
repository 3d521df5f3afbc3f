import { randomUUID } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from "@opentelemetry/sdk-trace";
import { z } from "zod";
import { env } from "./config.js";

export { SpanKind, type Span, type Context };

/**
 * Tracing is off unless an OTLP endpoint is configured: then every send is
 * one trace across the gateway, chat, the store, the delivery bus and the
 * delivery, exported over OTLP/HTTP (protobuf). Off, each function here
 * returns at its first line, so the hot path pays a branch per stage.
 *
 * Context travels in process through AsyncLocalStorage (always on: log lines
 * read the request id and trace id from it), between processes in the W3C
 * `traceparent` form: as a header on unary calls, and as a field of the
 * commands and deliveries that share one long-lived stream.
 */
export const tracingEnv = {
  /** Base URL of an OTLP/HTTP collector; traces go to <base>/v1/traces. Unset: tracing off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .refine((v) => /^https?:\/\/[^\s]+$/.test(v) && URL.canParse(v), { error: "must be an http:// or https:// URL, such as http://otel-collector:4318" })
    .optional(),
  /** Share of traces kept (sampled at their root; a continued trace follows its parent's decision). */
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, { error: "must be a number from 0 to 1, such as 0.1" })
    .transform(Number)
    .default(1),
  OTEL_SERVICE_NAME: env.optionalString(),
  /** How long finished spans wait to be exported together. */
  OTEL_BSP_SCHEDULE_DELAY: env.int(10, 60_000, 5_000),
};

export interface TracingSettings {
  /** Where spans are posted (…/v1/traces); undefined: tracing off. */
  tracesUrl: string | undefined;
  sampleRatio: number;
  serviceName: string | undefined;
  exportDelayMs: number;
}

export function tracingSettings(v: {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_TRACES_SAMPLER_ARG: number;
  OTEL_SERVICE_NAME?: string | undefined;
  OTEL_BSP_SCHEDULE_DELAY: number;
}): TracingSettings {
  const base = v.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, "");
  return {
    tracesUrl: base === undefined ? undefined : `${base}/v1/traces`,
    sampleRatio: v.OTEL_TRACES_SAMPLER_ARG,
    serviceName: v.OTEL_SERVICE_NAME,
    exportDelayMs: v.OTEL_BSP_SCHEDULE_DELAY,
  };
}

const tracer = trace.getTracer("parley");
const propagator = new W3CTraceContextPropagator();
const REQUEST_ID = createContextKey("parley.request_id");
let provider: TracerProvider | undefined;
let contextManager: AsyncLocalStorageContextManager | undefined;

/** Context in process, for the request ids and trace ids of log lines (idempotent; createLogger calls it). */
export function enableRequestContext(): void {
  if (contextManager !== undefined) return;
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(propagator);
}

/** Spans, exported to `settings.tracesUrl` when it is set; nothing otherwise. */
export function startTracing(defaultServiceName: string, settings: TracingSettings): { shutdown(): Promise<void> } {
  enableRequestContext();
  if (settings.tracesUrl === undefined || provider !== undefined) return { shutdown: async () => {} };
  const own = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": settings.serviceName ?? defaultServiceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: settings.tracesUrl }), scheduledDelayMillis: settings.exportDelayMs })],
  });
  provider = own;
  trace.setGlobalTracerProvider(own);
  return {
    async shutdown() {
      await own.shutdown(); // exports what is still buffered
      trace.disable();
      provider = undefined;
    },
  };
}

export function tracingOn(): boolean {
  return provider !== undefined;
}

/** A span of a stage, under `parent` (the active context when omitted); undefined while tracing is off. */
export function startSpan(name: string, kind: SpanKind, parent?: Context, attributes?: Attributes): Span | undefined {
  if (provider === undefined) return undefined;
  return tracer.startSpan(name, { kind, ...(attributes ? { attributes } : {}) }, parent ?? context.active());
}

/** Runs `fn` with `span` as the active span, so log lines and child spans inside it belong to it. */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  if (span === undefined) return fn();
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Ends a span, marking it failed when `err` is given. */
export function endSpan(span: Span | undefined, err?: unknown): void {
  if (span === undefined) return;
  if (err !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}

/** The W3C traceparent of `span` (the active span when omitted), for a field or header; "" when there is none. */
export function traceparentOf(span?: Span): string {
  if (provider === undefined) return "";
  const ctx = span === undefined ? context.active() : trace.setSpan(ROOT_CONTEXT, span);
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, { set: (c, k, v) => (c[k] = v) });
  return carrier.traceparent ?? "";
}

/** The context a traceparent continues; undefined for "" or while tracing is off. */
export function contextOf(traceparent: string): Context | undefined {
  if (provider === undefined || traceparent === "") return undefined;
  return propagator.extract(ROOT_CONTEXT, { traceparent }, { get: (c, k) => c[k as "traceparent"], keys: () => ["traceparent"] });
}

/** The active context, to carry across a queue; undefined while tracing is off. */
export function activeContext(): Context | undefined {
  return provider === undefined ? undefined : context.active();
}

/** Runs `fn` in `ctx` (carried across a queue); as is when `ctx` is undefined. */
export function withContext<T>(ctx: Context | undefined, fn: () => T): T {
  return ctx === undefined ? fn() : context.with(ctx, fn);
}

/** Runs `fn` with `requestId` as the context's request id (read by log lines). */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return context.with(context.active().setValue(REQUEST_ID, requestId), fn);
}

/** The request id and trace of the work in progress, for log lines; {} outside any request. */
export function logContext(): { request_id?: string; trace_id?: string; span_id?: string } {
  const ctx = context.active();
  const requestId = ctx.getValue(REQUEST_ID) as string | undefined;
  const span = trace.getSpanContext(ctx);
  if (requestId === undefined && span === undefined) return {};
  const fields: { request_id?: string; trace_id?: string; span_id?: string } = {};
  if (requestId !== undefined) fields.request_id = requestId;
  if (span !== undefined) {
    fields.trace_id = span.traceId;
    fields.span_id = span.spanId;
  }
  return fields;
}

const REQUEST_ID_HEADER = "x-request-id";
/** Request ids taken from callers: printable, short, no spaces (anything else is replaced by one of ours). */
const REQUEST_ID_FORM = /^[A-Za-z0-9._:/-]{1,128}$/;

/** The caller's request id when it is well formed, else a new one. */
export function requestIdFrom(header: string | null | undefined): string {
  return header != null && REQUEST_ID_FORM.test(header) ? header : randomUUID();
}

/**
 * A server's unary calls continue the caller's trace (`traceparent`) and
 * request id (`x-request-id`), so log lines inside them carry both. With
 * `rootSpans`, a call with no trace yet starts one (the public API);
 * otherwise only calls that bring one get a span. Streams are left alone:
 * their messages carry their own traceparent.
 */
export function tracingServerInterceptor(options: { rootSpans: boolean }): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const header = req.header.get(REQUEST_ID_HEADER);
    const parent = contextOf(req.header.get("traceparent") ?? "");
    const span =
      parent !== undefined || options.rootSpans ? startSpan(`${req.service.typeName}/${req.method.name}`, SpanKind.SERVER, parent ?? ROOT_CONTEXT) : undefined;
    if (span === undefined && header === null) return next(req);
    const run = () => withSpan(span, () => next(req));
    try {
      const res = await (header === null ? run() : withRequestId(requestIdFrom(header), run));
      endSpan(span);
      return res;
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  };
}

/** A client's unary calls carry the current trace and request id to the server. */
export function tracingClientInterceptor(): Interceptor {
  return (next) => (req) => {
    if (req.stream) return next(req);
    const ctx = context.active();
    const requestId = ctx.getValue(REQUEST_ID) as string | undefined;
    if (requestId !== undefined) req.header.set(REQUEST_ID_HEADER, requestId);
    if (provider !== undefined) propagator.inject(ctx, req.header, { set: (h, k, v) => h.set(k, v) });
    return next(req);
  };
}
