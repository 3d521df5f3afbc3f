import { validateMetricName, type Metric, type Registry } from "prom-client";

/**
 * Metric families for hot paths. prom-client's labelled children hash and
 * check their labels on every inc() and observe(), and observe() allocates
 * an object each time: a cost per message. Here each series is a cell, made
 * once at wiring time for its fixed labels, which the hot path bumps like
 * any field (no lookup, no allocation); the registry reads the cells only
 * when /metrics is scraped. The cells of one family share its labels' names;
 * every cell made exists in the exposition from the start, at 0, so a
 * rate() over a series that has not moved yet reads 0 rather than nothing.
 */

/** One series of a counter: a number that only grows. */
export class CounterCell {
  value = 0;

  inc(n = 1): void {
    this.value += n;
  }
}

/** One series of a histogram: a count per bucket (not cumulative; the last is above every bound), a sum and a count. */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i] = this.counts[i]! + 1;
    this.sum += value;
    this.count++;
  }
}

type Labels<L extends string> = Readonly<Record<L, string>>;

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

export interface FamilyOptions<L extends string> {
  name: string;
  /** What the family measures and in which unit: operators read it in /metrics and in Grafana. */
  help: string;
  labelNames?: readonly L[];
}

/**
 * A family's series by their label values. prom-client's Registry reads a
 * metric through `name`, `help`, `type`, `aggregator` and `get()` (and
 * `reset()` on resetMetrics()); its type names only its own classes, hence
 * the one cast where a family registers (checked against prom-client 15.1.3,
 * pinned, and by the tests that parse every process's exposition).
 */
abstract class CellFamily<L extends string, C> {
  readonly aggregator = "sum";
  readonly #labelNames: readonly L[];
  readonly #series = new Map<string, { labels: Labels<L>; cell: C }>();

  constructor(
    registry: Registry,
    readonly type: "counter" | "histogram",
    options: FamilyOptions<L>,
  ) {
    if (!validateMetricName(options.name)) throw new Error(`invalid metric name: ${options.name}`);
    this.#labelNames = options.labelNames ?? [];
    this.name = options.name;
    this.help = options.help;
    registry.registerMetric(this as unknown as Metric);
  }

  readonly name: string;
  readonly help: string;

  /** The cell of one series (the same cell for the same labels): take it at wiring time and keep it. */
  cell(...labels: [L] extends [never] ? [] : [Labels<L>]): C {
    const values = labels[0] ?? ({} as Labels<L>);
    const key = this.#labelNames.map((name) => values[name]).join("\u0000");
    let series = this.#series.get(key);
    if (series === undefined) {
      for (const name of this.#labelNames) if (typeof values[name] !== "string") throw new Error(`${this.name}: label ${name} has no value`);
      series = { labels: values, cell: this.newCell() };
      this.#series.set(key, series);
    }
    return series.cell;
  }

  protected abstract newCell(): C;
  protected abstract samples(labels: Labels<L>, cell: C): Sample[];

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const { labels, cell } of this.#series.values()) values.push(...this.samples(labels, cell));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const { cell } of this.#series.values()) this.clear(cell);
  }

  protected abstract clear(cell: C): void;
}

/** A counter family; its name must end in `_total`. */
export class CellCounter<L extends string = never> extends CellFamily<L, CounterCell> {
  constructor(registry: Registry, options: FamilyOptions<L>) {
    if (!options.name.endsWith("_total")) throw new Error(`counter ${options.name}: a counter's name ends in _total`);
    super(registry, "counter", options);
  }

  protected newCell(): CounterCell {
    return new CounterCell();
  }

  protected samples(labels: Labels<L>, cell: CounterCell): Sample[] {
    return [{ labels: { ...labels }, value: cell.value }];
  }

  protected clear(cell: CounterCell): void {
    cell.value = 0;
  }
}

/** A histogram family: every series shares the bucket bounds (ascending upper bounds, in the family's unit). */
export class CellHistogram<L extends string = never> extends CellFamily<L, HistogramCell> {
  readonly #bounds: readonly number[];

  constructor(registry: Registry, options: FamilyOptions<L> & { buckets: readonly number[] }) {
    if (options.name.endsWith("_total")) throw new Error(`histogram ${options.name}: only a counter's name ends in _total`);
    if (options.buckets.some((b, i) => i > 0 && b <= options.buckets[i - 1]!)) throw new Error(`histogram ${options.name}: buckets must ascend`);
    super(registry, "histogram", options);
    this.#bounds = [...options.buckets];
  }

  protected newCell(): HistogramCell {
    return new HistogramCell(this.#bounds);
  }

  protected samples(labels: Labels<L>, cell: HistogramCell): Sample[] {
    const samples: Sample[] = [];
    let cumulative = 0;
    cell.bounds.forEach((bound, i) => {
      cumulative += cell.counts[i]!;
      samples.push({ labels: { ...labels, le: bound }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    samples.push({ labels: { ...labels, le: "+Inf" }, value: cell.count, metricName: `${this.name}_bucket` });
    samples.push({ labels: { ...labels }, value: cell.sum, metricName: `${this.name}_sum` });
    samples.push({ labels: { ...labels }, value: cell.count, metricName: `${this.name}_count` });
    return samples;
  }

  protected clear(cell: HistogramCell): void {
    cell.counts.fill(0);
    cell.sum = 0;
    cell.count = 0;
  }
}
