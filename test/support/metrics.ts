import { parseExposition, type Exposition, type Family } from "@parley/testkit";

/** The process's /metrics, read. */
export async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseExposition(await res.text());
}

/** Every gRPC status as a `code` label value: ok and Connect's snake_case names. */
export const CODE_VALUES: ReadonlySet<string> = new Set([
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
]);

/** Histogram names end in a base unit, or in a count named for what it counts (documented in docs/operations-metrics.md). */
const HISTOGRAM_UNITS = ["_seconds", "_bytes", "_entries", "_messages", "_events"];

/** Labels whose values are names from elsewhere (RPC names, an instance id, bucket bounds), not enumerations of ours. */
const NAME_LABELS: ReadonlySet<string> = new Set(["service", "method", "gateway", "le"]);

/** The most series one family may have: the label sets are bounded enumerations, never per user or message. */
const MAX_SERIES = 300;

/**
 * What is wrong with a family's name, type, help or labels under the naming
 * rules (Prometheus's conventions as this project applies them); empty when
 * nothing is. The process defaults from prom-client are held to the name and
 * type rules only (their help and label values are prom-client's).
 */
export function namingProblems(family: Family): string[] {
  const problems: string[] = [];
  const { name, type } = family;
  const ours = name.startsWith("parley_");
  const problem = (what: string) => problems.push(`${name}: ${what}`);
  if (!ours && !/^(process|nodejs)_/.test(name)) problem("not parley_ (nor a process default)");
  if (!/^[a-z][a-z0-9_]*$/.test(name)) problem("not snake_case");
  if (type === "untyped" || type === "summary") problem(`type ${type}: counters, gauges and histograms only`);
  if ((type === "counter") !== name.endsWith("_total")) problem(type === "counter" ? "a counter not named _total" : `a ${type} named _total`);
  if (type === "histogram" && !HISTOGRAM_UNITS.some((unit) => name.endsWith(unit))) problem(`a histogram without a unit (${HISTOGRAM_UNITS.join(", ")})`);
  if (family.help.trim() === "") problem("no HELP");
  if (ours && /_seconds$/.test(name) && !/second/i.test(family.help)) problem("HELP does not say seconds");
  if (ours && /_bytes$/.test(name) && !/byte/i.test(family.help)) problem("HELP does not say bytes");
  const series = new Set<string>();
  for (const sample of family.samples) {
    series.add(JSON.stringify(Object.entries(sample.labels).filter(([label]) => label !== "le")));
    for (const [label, value] of Object.entries(sample.labels)) {
      if (!/^[a-z_][a-z0-9_]*$/.test(label)) problem(`label ${label} not snake_case`);
      if (label === "code" && !CODE_VALUES.has(value)) problem(`code="${value}" is not a snake_case status code`);
      if (/^\d{6,}$/.test(value)) problem(`${label}="${value}" looks like an id: unbounded`);
      if (ours && !NAME_LABELS.has(label) && !/^[a-z0-9_]+$/.test(value)) problem(`${label}="${value}" is not a snake_case value`);
    }
  }
  if (series.size > MAX_SERIES) problem(`${series.size} series: more than ${MAX_SERIES}`);
  return problems;
}

/** The names of metrics a PromQL expression reads (parley_*, process_*, nodejs_*; Prometheus's own, such as up, are not listed). */
export function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(?:parley|process|nodejs)_[a-z0-9_]+\b/g)].map((match) => match[0]);
}

/** Every sample name in an exposition: the families' names and their _bucket, _sum and _count. */
export function sampleNames(exposition: Exposition): Set<string> {
  const names = new Set<string>();
  for (const family of exposition.values()) {
    names.add(family.name);
    for (const sample of family.samples) names.add(sample.name);
  }
  return names;
}
