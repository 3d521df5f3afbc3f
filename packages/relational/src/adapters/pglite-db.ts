import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { PGlite, types, type Transaction } from "@electric-sql/pglite";
import type { Db, QueryResult } from "../port.js";

/**
 * The embedded default: Postgres compiled to WebAssembly, in a data folder
 * (or in memory when `dataDir` is undefined). One session: queries queue up,
 * and a transaction holds the instance until it ends, which is the
 * serialisation a single-process deployment wants anyway.
 */
export async function openPgliteDb(dataDir: string | undefined): Promise<Db> {
  if (dataDir !== undefined) await mkdir(dirname(dataDir), { recursive: true });
  const pglite = await PGlite.create(dataDir, {
    // int8 as text, as pg returns it: PGlite would otherwise mix numbers and bigints.
    parsers: { [types.INT8]: (value: string) => value },
  });
  return new PgliteDb(pglite);
}

class PgliteDb implements Db {
  constructor(private readonly pglite: PGlite) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    return toResult(await this.pglite.query<Row>(sql, params as unknown[]));
  }

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return this.pglite.transaction((tx) => fn(new PgliteTx(tx)));
  }

  async close(): Promise<void> {
    if (!this.pglite.closed) await this.pglite.close();
  }
}

class PgliteTx implements Db {
  constructor(private readonly tx: Transaction) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    return toResult(await this.tx.query<Row>(sql, params as unknown[]));
  }

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async close(): Promise<void> {
    throw new Error("close the database, not a transaction");
  }
}

function toResult<Row>(result: { rows: Row[]; affectedRows?: number }): QueryResult<Row> {
  return { rows: result.rows, rowCount: result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0) };
}
