import { setImmediate as turn } from "node:timers/promises";
import { types } from "cassandra-driver";
import type { Cql } from "../src/adapters/store/cassandra/cql.js";
import type { Row } from "../src/adapters/store/cassandra/rows.js";

/**
 * An in-memory stand-in for Cassandra that interprets the statements the
 * Cassandra message store runs, and nothing more: tables from the store's own
 * CREATE TABLE statements and ALTER TABLE ... ADD (an existing column refused,
 * as Cassandra 4 does), single-partition SELECT (=, <, <=, >, >=, IN,
 * LIMIT, clustering order), INSERT / UPDATE / DELETE with IF NOT EXISTS or IF
 * conditions (applied atomically, as a lightweight transaction; the reply of
 * one that fails carries the whole row for IF NOT EXISTS and the condition's
 * columns otherwise), and the driver's decoding (empty collections as null).
 * Each value is checked against its column's CQL type as the driver's
 * encoder would see it (bigint must be a BigInt with useBigIntAsLong).
 * Every statement yields to the event loop first, so concurrent callers
 * interleave between statements as they would over the network.
 *
 * What it cannot show: Cassandra's own behaviour (Paxos under contention,
 * timeouts, consistency levels, tombstones, schema agreement). It checks the
 * adapter's logic against the contract, not the adapter against Cassandra.
 */

interface Table {
  columns: Map<string, string>;
  partitionKey: string[];
  clustering: { name: string; desc: boolean }[];
  /** partition key text -> clustering key text -> row */
  partitions: Map<string, Map<string, Record<string, unknown>>>;
}

type Condition = { column: string; op: string; value: unknown };

export class CqlStandIn implements Cql {
  private readonly tables = new Map<string, Table>();
  readonly statements = { lwt: 0, read: 0, write: 0 };

  constructor(readonly keyspace: string) {}

  async read(query: string, params: readonly unknown[]): Promise<Row[]> {
    await turn();
    this.statements.read++;
    return this.select(query, [...params]);
  }

  serialRead(query: string, params: readonly unknown[]): Promise<Row[]> {
    return this.read(query, params);
  }

  async *scan(query: string, params: readonly unknown[]): AsyncIterable<Row> {
    for (const row of await this.read(query, params)) yield row;
  }

  async write(query: string, params: readonly unknown[]): Promise<void> {
    await turn();
    this.statements.write++;
    const { applied } = this.mutate(query, [...params]);
    if (!applied) throw new Error(`a plain write was refused: ${query}`);
  }

  async lwt(query: string, params: readonly unknown[]): Promise<{ applied: boolean; row: Row | undefined }> {
    await turn();
    this.statements.lwt++;
    if (!/\bIF\b/.test(query)) throw new Error(`not a lightweight transaction: ${query}`);
    return this.mutate(query, [...params]);
  }

  async ddl(query: string): Promise<void> {
    await turn();
    const create = /^\s*CREATE TABLE IF NOT EXISTS (\w+)\.(\w+) \(([\s\S]*?)\)(?:\s*WITH CLUSTERING ORDER BY \(([^)]*)\))?\s*$/.exec(query);
    if (create === null) {
      if (/^\s*CREATE KEYSPACE IF NOT EXISTS/.test(query) || /^\s*DROP KEYSPACE/.test(query)) return;
      const alter = /^\s*ALTER TABLE (\w+)\.(\w+) ADD (\w+) (\S+)\s*$/.exec(query);
      if (alter !== null) {
        const table = this.table(`${alter[1]}.${alter[2]}`);
        // As Cassandra 4 does: no IF NOT EXISTS, an existing column is an error.
        if (table.columns.has(alter[3]!)) throw new Error(`Invalid column name ${alter[3]} because it conflicts with an existing column`);
        table.columns.set(alter[3]!, alter[4]!);
        return;
      }
      throw new Error(`unsupported DDL: ${query}`);
    }
    const [, , name, body, order] = create as unknown as [string, string, string, string, string | undefined];
    if (this.tables.has(name)) return;
    const columns = new Map<string, string>();
    let key: string[][] = [];
    for (const part of splitTop(body)) {
      const primary = /^PRIMARY KEY \((.*)\)$/s.exec(part);
      if (primary !== null) {
        const items = splitTop(primary[1]!);
        key = items.map((item) =>
          item
            .replace(/[()]/g, "")
            .split(",")
            .map((s) => s.trim()),
        );
        continue;
      }
      const [column, ...type] = part.split(/\s+/);
      const inline = type.join(" ").replace(/\s*PRIMARY KEY$/, "");
      columns.set(column!, inline);
      if (/PRIMARY KEY$/.test(part)) key = [[column!]];
    }
    const descending = new Set(
      (order ?? "")
        .split(",")
        .filter((s) => /DESC/.test(s))
        .map((s) => s.trim().split(/\s+/)[0]),
    );
    const [partitionKey, ...rest] = key;
    const clustering = rest.flat().map((c) => ({ name: c, desc: descending.has(c) }));
    this.tables.set(name, { columns, partitionKey: partitionKey!, clustering, partitions: new Map() });
  }

  async close(): Promise<void> {}

  private table(qualified: string): Table {
    const [keyspace, name] = qualified.split(".");
    const table = this.tables.get(name!);
    if (keyspace !== this.keyspace || table === undefined) throw new Error(`unknown table ${qualified}`);
    return table;
  }

  private select(query: string, params: unknown[]): Row[] {
    const m = /^\s*SELECT ([\s\S]+?) FROM (\S+)\s+WHERE ([\s\S]+?)(?:\s+LIMIT (\?|\d+))?\s*$/.exec(query);
    if (m === null) throw new Error(`unsupported SELECT: ${query}`);
    const table = this.table(m[2]!);
    const values = [...params];
    const where = parseConditions(m[3]!, values, table);
    const limit = m[4] === undefined ? Number.POSITIVE_INFINITY : Number(m[4] === "?" ? values.shift() : m[4]);
    if (values.length > 0) throw new Error(`${values.length} parameters left over: ${query}`);
    const partition = table.partitions.get(this.partitionOf(table, where, query)) ?? new Map();
    const columns = m[1]!.trim() === "*" ? [...table.columns.keys()] : m[1]!.split(",").map((c) => c.trim());
    for (const c of columns) if (!table.columns.has(c)) throw new Error(`unknown column ${c}: ${query}`);
    const rows = [...partition.values()]
      .filter((row) => where.every((c) => table.partitionKey.includes(c.column) || holds(row[c.column], c)))
      .sort((a, b) => compareRows(table, a, b));
    return rows.slice(0, limit).map((row) => Object.fromEntries(columns.map((c) => [c, decoded(row[c])])));
  }

  private mutate(query: string, params: unknown[]): { applied: boolean; row: Row | undefined } {
    const insert = /^\s*INSERT INTO (\S+) \(([^)]*)\)\s*VALUES \(([^)]*)\)(\s+IF NOT EXISTS)?\s*$/.exec(query);
    if (insert !== null) {
      const table = this.table(insert[1]!);
      const columns = insert[2]!.split(",").map((c) => c.trim());
      const literals = insert[3]!.split(",").map((v) => v.trim());
      if (columns.length !== literals.length) throw new Error(`columns and values differ in number: ${query}`);
      const values = [...params];
      const row: Record<string, unknown> = {};
      columns.forEach((column, i) => {
        row[column] = typed(table, column, literals[i] === "?" ? values.shift() : literal(table, column, literals[i]!), query);
      });
      if (values.length > 0) throw new Error(`${values.length} parameters left over: ${query}`);
      const key = this.keyOf(table, row, query);
      const existing = this.partition(table, key.partition).get(key.clustering);
      if (insert[4] !== undefined && existing !== undefined) return { applied: false, row: decodedRow(table, existing) };
      this.partition(table, key.partition).set(key.clustering, { ...(existing ?? {}), ...row });
      return { applied: true, row: undefined };
    }
    const update = /^\s*UPDATE (\S+) SET ([\s\S]+?) WHERE ([\s\S]+?)(?:\s+IF ([\s\S]+))?\s*$/.exec(query);
    if (update !== null) {
      const table = this.table(update[1]!);
      const values = [...params];
      const sets = splitTop(update[2]!).map((assignment) => {
        const [column, value] = assignment.split("=").map((s) => s.trim()) as [string, string];
        return [column, typed(table, column, value === "?" ? values.shift() : literal(table, column, value), query)] as const;
      });
      const key = this.keyFromWhere(table, parseConditions(update[3]!, values, table), query);
      const conditions = update[4] === undefined ? [] : parseConditions(update[4], values, table);
      if (values.length > 0) throw new Error(`${values.length} parameters left over: ${query}`);
      const partition = this.partition(table, key.partition);
      const existing = partition.get(key.clustering);
      if (update[4] !== undefined) {
        if (existing === undefined) return { applied: false, row: undefined };
        if (!conditions.every((c) => holds(existing[c.column], c))) {
          return { applied: false, row: Object.fromEntries(conditions.map((c) => [c.column, decoded(existing[c.column])])) };
        }
      }
      const row = existing ?? { ...key.values };
      for (const [column, value] of sets) row[column] = value;
      partition.set(key.clustering, row);
      return { applied: true, row: undefined };
    }
    const del = /^\s*DELETE FROM (\S+) WHERE ([\s\S]+?)(?:\s+IF ([\s\S]+))?\s*$/.exec(query);
    if (del !== null) {
      const table = this.table(del[1]!);
      const values = [...params];
      const key = this.keyFromWhere(table, parseConditions(del[2]!, values, table), query);
      const conditions = del[3] === undefined || del[3].trim() === "EXISTS" ? [] : parseConditions(del[3], values, table);
      const partition = this.partition(table, key.partition);
      const existing = partition.get(key.clustering);
      if (del[3] !== undefined && (existing === undefined || !conditions.every((c) => holds(existing[c.column], c)))) {
        return { applied: false, row: existing === undefined ? undefined : Object.fromEntries(conditions.map((c) => [c.column, decoded(existing[c.column])])) };
      }
      partition.delete(key.clustering);
      return { applied: true, row: undefined };
    }
    throw new Error(`unsupported statement: ${query}`);
  }

  private partition(table: Table, key: string): Map<string, Record<string, unknown>> {
    const partition = table.partitions.get(key) ?? new Map<string, Record<string, unknown>>();
    table.partitions.set(key, partition);
    return partition;
  }

  private partitionOf(table: Table, where: Condition[], query: string): string {
    return table.partitionKey
      .map((column) => {
        const condition = where.find((c) => c.column === column && c.op === "=");
        if (condition === undefined) throw new Error(`partition key column ${column} is not restricted by =: ${query}`);
        return keyText(condition.value);
      })
      .join("|");
  }

  private keyOf(table: Table, row: Record<string, unknown>, query: string) {
    const missing = [...table.partitionKey, ...table.clustering.map((c) => c.name)].filter((c) => row[c] === undefined || row[c] === null);
    if (missing.length > 0) throw new Error(`primary key column ${missing[0]} has no value: ${query}`);
    const values = Object.fromEntries([...table.partitionKey, ...table.clustering.map((c) => c.name)].map((c) => [c, row[c]]));
    return {
      partition: table.partitionKey.map((c) => keyText(row[c])).join("|"),
      clustering: table.clustering.map((c) => keyText(row[c.name])).join("|"),
      values,
    };
  }

  private keyFromWhere(table: Table, where: Condition[], query: string) {
    if (where.some((c) => c.op !== "=")) throw new Error(`a write's WHERE names the whole primary key with =: ${query}`);
    return this.keyOf(table, Object.fromEntries(where.map((c) => [c.column, c.value])), query);
  }
}

/** Splits at commas outside parentheses and angle brackets. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(" || ch === "<") depth++;
    if (ch === ")" || ch === ">") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim() !== "") parts.push(current.trim());
  return parts;
}

function parseConditions(text: string, values: unknown[], table: Table): Condition[] {
  return text.split(/\s+AND\s+/).map((part) => {
    const m = /^(\w+)\s*(=|<=|>=|<|>|IN)\s*(\?|\S+)$/.exec(part.trim());
    if (m === null) throw new Error(`unsupported condition: ${part}`);
    const column = m[1]!;
    if (!table.columns.has(column)) throw new Error(`unknown column ${column}`);
    const raw = m[3] === "?" ? values.shift() : literal(table, column, m[3]!);
    const value = m[2] === "IN" ? (raw as unknown[]).map((v) => typed(table, column, v, text)) : typed(table, column, raw, text);
    return { column, op: m[2]!, value };
  });
}

function literal(table: Table, column: string, text: string): unknown {
  if (text === "null") return null;
  if (text === "true" || text === "false") return text === "true";
  if (/^'.*'$/.test(text)) return text.slice(1, -1);
  if (/^-?\d+$/.test(text)) return table.columns.get(column) === "bigint" ? BigInt(text) : Number(text);
  throw new Error(`unsupported literal ${text}`);
}

/** The value as the driver would encode it for the column's type, or an error when it could not. */
function typed(table: Table, column: string, value: unknown, query: string): unknown {
  const type = table.columns.get(column);
  if (type === undefined) throw new Error(`unknown column ${column}: ${query}`);
  if (value === null || value === undefined) return null;
  const check = (ok: boolean) => {
    if (!ok) throw new TypeError(`${column} (${type}) cannot take ${typeof value} ${String(value)}: ${query}`);
  };
  const scalar = (t: string, v: unknown): boolean =>
    t === "bigint"
      ? typeof v === "bigint"
      : t === "int" || t === "tinyint"
        ? Number.isInteger(v)
        : t === "text"
          ? typeof v === "string"
          : t === "boolean"
            ? typeof v === "boolean"
            : t === "timestamp"
              ? v instanceof Date
              : t === "blob"
                ? Buffer.isBuffer(v)
                : t === "uuid"
                  ? v instanceof types.Uuid
                  : false;
  const map = /^map<(\w+), (\w+)>$/.exec(type);
  const set = /^set<(\w+)>$/.exec(type);
  if (map !== null) {
    check(value instanceof Map && [...value].every(([k, v]) => scalar(map[1]!, k) && scalar(map[2]!, v)));
    return new Map(value as Map<unknown, unknown>);
  }
  if (set !== null) {
    check(value instanceof Set && [...value].every((v) => scalar(set[1]!, v)));
    return new Set(value as Set<unknown>);
  }
  check(scalar(type, value));
  return value;
}

function holds(actual: unknown, { op, value }: Condition): boolean {
  if (op === "IN") return (value as unknown[]).some((v) => compare(actual, v) === 0);
  if (actual === null || actual === undefined || value === null) return op === "=" && (actual ?? null) === value;
  const order = compare(actual, value);
  return op === "=" ? order === 0 : op === "<" ? order < 0 : op === "<=" ? order <= 0 : op === ">" ? order > 0 : order >= 0;
}

function compare(a: unknown, b: unknown): number {
  if (a instanceof types.Uuid || b instanceof types.Uuid) return String(a) === String(b) ? 0 : 1;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return a === b ? 0 : 1;
}

function compareRows(table: Table, a: Record<string, unknown>, b: Record<string, unknown>): number {
  for (const { name, desc } of table.clustering) {
    const order = compare(a[name], b[name]);
    if (order !== 0) return desc ? -order : order;
  }
  return 0;
}

const keyText = (value: unknown) => (typeof value === "bigint" ? `${value}n` : String(value));

/** What the driver hands back: null for an unset column or an empty collection, copies of collections and blobs. */
function decoded(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Map) return value.size === 0 ? null : new Map(value);
  if (value instanceof Set) return value.size === 0 ? null : new Set(value);
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  return value;
}

function decodedRow(table: Table, row: Record<string, unknown>): Row {
  return Object.fromEntries([...table.columns.keys()].map((c) => [c, decoded(row[c])]));
}
