import { type Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { registerEventLoopDelay } from "./event-loop-delay.js";
import { CellCounter, CellHistogram, type CounterCell, type FamilyOptions, type HistogramCell } from "./metric-cells.js";
import { isOutage } from "./outage.js";

/** Upper bounds, in seconds, for latencies from a fraction of a millisecond to several seconds. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What a process was doing when etcd failed it: the `operation` label of parley_etcd_errors_total. */
export const ETCD_OPERATIONS = ["lease", "register", "list", "watch", "worker_id"] as const;
export type EtcdOperation = (typeof ETCD_OPERATIONS)[number];

/** The `operation` label of parley_database_errors_total: a statement alone, a transaction, or a call to the embedded engine. */
export const DATABASE_OPERATIONS = ["query", "transaction", "procedure"] as const;
export type DatabaseOperation = (typeof DATABASE_OPERATIONS)[number];

/**
 * The `kind` label of parley_database_errors_total: the database is down or
 * out of resources (unavailable), a retryable serialization conflict or
 * deadlock (conflict), a constraint the data broke, such as a taken
 * username (constraint), anything else (other: a bug, bad SQL).
 */
export const DATABASE_ERROR_KINDS = ["unavailable", "conflict", "constraint", "other"] as const;
export type DatabaseErrorKind = (typeof DATABASE_ERROR_KINDS)[number];

/**
 * The process defaults kept: CPU, memory, file descriptors, event-loop lag
 * (its percentiles are ours: ./event-loop-delay.ts), GC and the Node
 * version. prom-client's others repeat these (virtual memory, heap per V8
 * space, lag min/max/mean/stddev/p90), or are gauges named like counters
 * (nodejs_active_*_total: sum() the labelled family).
 */
const DEFAULT_METRICS_KEPT: ReadonlySet<string> = new Set([
  "process_cpu_user_seconds_total",
  "process_cpu_system_seconds_total",
  "process_cpu_seconds_total",
  "process_start_time_seconds",
  "process_resident_memory_bytes",
  "process_open_fds",
  "process_max_fds",
  "nodejs_eventloop_lag_seconds",
  "nodejs_active_handles",
  "nodejs_heap_size_total_bytes",
  "nodejs_heap_size_used_bytes",
  "nodejs_external_memory_bytes",
  "nodejs_version_info",
  "nodejs_gc_duration_seconds",
]);

/** Connect's status codes as snake_case label values ("ok", "not_found", "unavailable"), by code number. */
const CODE_LABELS: readonly string[] = Array.from({ length: 17 }, (_, code) => (code === 0 ? "ok" : codeToString(code as Code)));

/** The value of a `code` label for a status: "ok", or Connect's snake_case name ("not_found"), the same in every family. */
export function codeLabel(code: Code | 0): string {
  return CODE_LABELS[code] ?? "unknown";
}

interface RpcSeries {
  service: string;
  method: string;
  seconds: HistogramCell;
  /** By code number, made on first use. */
  byCode: (CounterCell | undefined)[];
}

type Labels<L extends string> = Readonly<Record<L, string>>;
type GaugeRead<L extends string> = (set: (value: number, labels?: Labels<L>) => void) => void | Promise<void>;

/**
 * One Prometheus registry per process, shared by every service the process
 * runs (the embedded mode runs several), so `/metrics` shows them all. It
 * holds the families every process has (RPCs, etcd and database errors,
 * the process's own) and makes the services' families.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #rpcCalls: CellCounter<"service" | "method" | "code">;
  readonly #rpcSeconds: CellHistogram<"service" | "method">;
  readonly #rpcSeries = new Map<object, RpcSeries>();
  readonly #etcdErrors = new Map<EtcdOperation, CounterCell>();
  readonly #databaseErrors = new Map<string, CounterCell>();
  readonly #families = new Map<string, { signature: string; family: unknown }>();

  constructor() {
    // prom-client's own delay histogram wakes the loop at the precision given; its gauges are
    // replaced below, so it samples once a minute (see ./event-loop-delay.ts).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 60_000 });
    for (const metric of this.registry.getMetricsAsArray()) {
      if (!DEFAULT_METRICS_KEPT.has(metric.name)) this.registry.removeSingleMetric(metric.name);
    }
    registerEventLoopDelay(this.registry);
    this.#rpcCalls = this.counter({
      name: "parley_rpc_handled_total",
      help: "RPCs this process served, by service, method and status code (ok, not_found, unavailable...); a stream counts once, when it opens",
      labelNames: ["service", "method", "code"],
    });
    this.#rpcSeconds = this.histogram({
      name: "parley_rpc_duration_seconds",
      help: "Time to serve a unary RPC, or to open a streaming one, in seconds",
      labelNames: ["service", "method"],
      buckets: LATENCY_BUCKETS,
    });
    const etcd = this.counter({
      name: "parley_etcd_errors_total",
      help: "Calls to etcd that failed, by operation (lease: grant or keep-alive; register; list; watch: the stream lost; worker_id: a claim); always 0 without etcd",
      labelNames: ["operation"],
    });
    for (const operation of ETCD_OPERATIONS) this.#etcdErrors.set(operation, etcd.cell({ operation }));
    const database = this.counter({
      name: "parley_database_errors_total",
      help: "Database calls that failed, by operation (query, transaction, procedure: the embedded engine) and kind (unavailable, conflict, constraint, other)",
      labelNames: ["operation", "kind"],
    });
    for (const operation of DATABASE_OPERATIONS) {
      for (const kind of DATABASE_ERROR_KINDS) this.#databaseErrors.set(`${operation}/${kind}`, database.cell({ operation, kind }));
    }
  }

  /**
   * A counter family (name ending in _total) whose series are cells: take
   * each cell at wiring time. Asked again for the same name (two instances
   * of a service in one process, as in tests), it is the same family.
   */
  counter<L extends string = never>(options: FamilyOptions<L>): CellCounter<L> {
    return this.#family("counter", options, () => new CellCounter(this.registry, options));
  }

  /** A histogram family whose series are cells: take each cell at wiring time. The same family for the same name. */
  histogram<L extends string = never>(options: FamilyOptions<L> & { buckets: readonly number[] }): CellHistogram<L> {
    return this.#family("histogram", options, () => new CellHistogram(this.registry, options));
  }

  /**
   * A gauge read when /metrics is scraped: `read` sets each series' current
   * value (series it does not set are not shown; none when it throws).
   * Another read of the same name joins the family (each sets series of its own).
   */
  gauge<L extends string = never>(options: FamilyOptions<L> & { read: GaugeRead<L> }): void {
    const readers = this.#family("gauge", options, () => {
      const list: GaugeRead<L>[] = [];
      new Gauge<L>({
        name: options.name,
        help: options.help,
        labelNames: [...(options.labelNames ?? [])],
        registers: [this.registry],
        async collect() {
          this.reset();
          const set = (value: number, labels?: Labels<L>) => (labels ? this.set(labels as Partial<Record<L, string>>, value) : this.set(value));
          // A reader that fails (notify's queue depth while the database is down) leaves its
          // series out of this scrape; the others, the error counters among them, still show.
          for (const read of list)
            await Promise.resolve()
              .then(() => read(set))
              .catch(() => undefined);
        },
      });
      return list;
    });
    readers.push(options.read);
  }

  #family<F>(type: string, options: FamilyOptions<string>, make: () => F): F {
    const signature = `${type}(${(options.labelNames ?? []).join(",")})`;
    const known = this.#families.get(options.name);
    if (known !== undefined) {
      if (known.signature !== signature) throw new Error(`metric ${options.name} is already a ${known.signature}, not a ${signature}`);
      return known.family as F;
    }
    const family = make();
    this.#families.set(options.name, { signature, family });
    return family;
  }

  /** Counts a failed call to etcd (a function of its own, to hand to the mesh as it is). */
  readonly etcdError = (operation: EtcdOperation): void => {
    this.#etcdErrors.get(operation)?.inc();
  };

  /** Counts a failed database call, its kind told by the error (a function of its own, to hand to the storage as it is). */
  readonly databaseError = (operation: DatabaseOperation, err: unknown): void => {
    this.#databaseErrors.get(`${operation}/${databaseErrorKind(err)}`)?.inc();
  };

  /** A server interceptor counting every RPC by status code and timing it. */
  interceptor(): Interceptor {
    return (next) => async (req) => {
      const series = this.#rpcSeriesOf(req.method, req.service.typeName, req.method.name);
      const started = performance.now();
      let code: Code | 0 = 0;
      try {
        return await next(req);
      } catch (err) {
        code = ConnectError.from(err).code;
        throw err;
      } finally {
        series.seconds.observe((performance.now() - started) / 1000);
        this.#rpcCell(series, code).inc();
      }
    };
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #rpcSeriesOf(key: object, service: string, method: string): RpcSeries {
    let series = this.#rpcSeries.get(key);
    if (series === undefined) {
      series = { service, method, seconds: this.#rpcSeconds.cell({ service, method }), byCode: [] };
      this.#rpcSeries.set(key, series);
    }
    return series;
  }

  #rpcCell(series: RpcSeries, code: Code | 0): CounterCell {
    let cell = series.byCode[code];
    if (cell === undefined) {
      cell = this.#rpcCalls.cell({ service: series.service, method: series.method, code: codeLabel(code) });
      series.byCode[code] = cell;
    }
    return cell;
  }
}

/** Which kind of database failure `err` is (see DATABASE_ERROR_KINDS). */
export function databaseErrorKind(err: unknown): DatabaseErrorKind {
  if (isOutage(err)) return "unavailable";
  const { code, errcode } = (typeof err === "object" && err !== null ? err : {}) as { code?: unknown; errcode?: unknown };
  if (code === "40001" || code === "40P01") return "conflict";
  if (typeof code === "string" && /^23[0-9A-Z]{3}$/.test(code)) return "constraint";
  // SQLite's primary result code 19: SQLITE_CONSTRAINT (unique, primary key, check, foreign key).
  if (typeof errcode === "number" && (errcode & 0xff) === 19) return "constraint";
  return "other";
}
