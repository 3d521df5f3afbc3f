import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * One Prometheus registry per process, shared by every service the process
 * runs (the embedded mode runs several), so `/metrics` shows them all.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly rpcTotal: Counter<"service" | "method" | "code">;
  readonly rpcSeconds: Histogram<"service" | "method">;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.rpcTotal = new Counter({
      name: "parley_rpc_handled_total",
      help: "RPCs handled by this process, by service, method and status code",
      labelNames: ["service", "method", "code"],
      registers: [this.registry],
    });
    this.rpcSeconds = new Histogram({
      name: "parley_rpc_duration_seconds",
      help: "Time to handle a unary RPC, or to open a streaming one",
      labelNames: ["service", "method"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
  }

  /** A server interceptor counting every RPC and timing it. */
  interceptor(): Interceptor {
    return (next) => async (req) => {
      const labels = { service: req.service.typeName, method: req.method.name };
      const stop = this.rpcSeconds.startTimer(labels);
      try {
        const res = await next(req);
        this.rpcTotal.inc({ ...labels, code: "ok" });
        return res;
      } catch (err) {
        const code = ConnectError.from(err).code;
        this.rpcTotal.inc({ ...labels, code: Code[code] ?? String(code) });
        throw err;
      } finally {
        stop();
      }
    };
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
