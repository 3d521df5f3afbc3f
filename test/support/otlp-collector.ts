import http from "node:http";
import type { AddressInfo } from "node:net";

/** A span as an OTLP collector receives it (the fields the tests look at). */
export interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** "" for a trace's root. */
  parentSpanId: string;
  name: string;
}

/**
 * A stand-in for an OpenTelemetry collector: accepts OTLP/HTTP protobuf
 * exports on /v1/traces, as the real one does, and keeps their spans.
 */
export class OtlpCollector {
  readonly spans: CollectedSpan[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<OtlpCollector> {
    let collector: OtlpCollector | undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/v1/traces" || req.headers["content-type"] !== "application/x-protobuf") {
          res.writeHead(400).end();
          return;
        }
        collector!.receive(Buffer.concat(chunks));
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    collector = new OtlpCollector(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return collector;
  }

  /** Resolves once `done` holds for the spans received, checked at each export (bounded by `timeoutMs`). */
  async until<T>(find: (spans: CollectedSpan[]) => T | undefined, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find(this.spans);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`not received within ${timeoutMs} ms; spans so far: ${JSON.stringify(this.spans.map((s) => `${s.service}:${s.name}`))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** ExportTraceServiceRequest: resource_spans = 1 { resource = 1, scope_spans = 2 { spans = 2 } }. */
  private receive(body: Buffer): void {
    for (const resourceSpans of fieldsOf(body, 1)) {
      const service = serviceNameOf(fieldsOf(resourceSpans, 1)[0]);
      for (const scopeSpans of fieldsOf(resourceSpans, 2)) {
        for (const span of fieldsOf(scopeSpans, 2)) {
          this.spans.push({
            service,
            traceId: hex(fieldsOf(span, 1)[0]),
            spanId: hex(fieldsOf(span, 2)[0]),
            parentSpanId: hex(fieldsOf(span, 4)[0]),
            name: fieldsOf(span, 5)[0]?.toString("utf8") ?? "",
          });
        }
      }
    }
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** Resource { attributes = 1: KeyValue { key = 1, value = 2: AnyValue { string_value = 1 } } }: its service.name. */
function serviceNameOf(resource: Buffer | undefined): string {
  if (resource === undefined) return "";
  for (const kv of fieldsOf(resource, 1)) {
    if (fieldsOf(kv, 1)[0]?.toString("utf8") !== "service.name") continue;
    const value = fieldsOf(kv, 2)[0];
    return value === undefined ? "" : (fieldsOf(value, 1)[0]?.toString("utf8") ?? "");
  }
  return "";
}

function hex(bytes: Buffer | undefined): string {
  return bytes === undefined ? "" : bytes.toString("hex");
}

/** The length-delimited fields numbered `field` of a protobuf message (the wire format's other kinds are skipped). */
function fieldsOf(message: Buffer, field: number): Buffer[] {
  const found: Buffer[] = [];
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = message[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
      shift += 7;
    }
  };
  while (at < message.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === 0) varint();
    else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else if (wireType === 2) {
      const length = varint();
      if (number === field) found.push(message.subarray(at, at + length));
      at += length;
    } else throw new Error(`unexpected wire type ${wireType}`);
  }
  return found;
}
