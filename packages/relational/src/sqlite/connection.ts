import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";

/** A row as SQLite returns it: integers as bigint (exact above 2^53), text as string, blobs as Uint8Array. */
export type SqliteRow = Record<string, SQLInputValue>;
export type SqliteParams = readonly SQLInputValue[] | Record<string, SQLInputValue>;

/**
 * What a procedure gets: the worker's one connection, inside the call's
 * transaction. Statements are prepared once per SQL text and reused, which
 * is most of SQLite's per-statement cost. Integers always come back as
 * bigint, so ids and seqs never lose precision.
 */
export class SqliteConnection {
  private readonly statements = new Map<string, StatementSync>();

  constructor(readonly raw: DatabaseSync) {}

  all<Row = SqliteRow>(sql: string, params: SqliteParams = []): Row[] {
    return bind(this.statement(sql), "all", params) as Row[];
  }

  get<Row = SqliteRow>(sql: string, params: SqliteParams = []): Row | undefined {
    return bind(this.statement(sql), "get", params) as Row | undefined;
  }

  /** Runs a statement; returns the rows it changed. */
  run(sql: string, params: SqliteParams = []): number {
    return Number((bind(this.statement(sql), "run", params) as { changes: number | bigint }).changes);
  }

  /** Runs several statements without parameters (schema changes). */
  exec(sql: string): void {
    this.raw.exec(sql);
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.raw.prepare(sql);
      statement.setReadBigInts(true);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function bind(statement: StatementSync, method: "all" | "get" | "run", params: SqliteParams): unknown {
  return Array.isArray(params) ? statement[method](...(params as SQLInputValue[])) : statement[method](params as Record<string, SQLInputValue>);
}
