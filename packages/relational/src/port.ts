/**
 * The relational store port: what Parley's services need from a SQL database.
 *
 * Contract (the shared suite in test/relational-contract.ts checks it on every
 * adapter):
 * - Parameters are positional ($1, $2...). bigint/int8 columns come back as
 *   decimal strings on every adapter (never JS numbers, which lose precision
 *   above 2^53); timestamptz as Date; jsonb as parsed values.
 * - `transaction` runs `fn` atomically: all its statements commit, or none
 *   do when `fn` throws (the error is rethrown). Calling `transaction` on the
 *   handle passed to `fn` joins the same transaction.
 * - Errors keep the server's SQLSTATE in `code` (see isUniqueViolation).
 * - `close` waits for running queries and releases every connection.
 */
export interface Db {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Told of every failed database call (metrics): a statement alone (query),
 * a transaction (its statements and commit count once, here), or a call to
 * the embedded engine (procedure). Never throws; the error still reaches the caller.
 */
export type DbErrorListener = (operation: "query" | "transaction" | "procedure", err: unknown) => void;

export interface QueryResult<Row> {
  rows: Row[];
  /** Rows returned or affected. */
  rowCount: number;
}

/** True for a unique-constraint violation (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === "23505";
}

/** True for a serialization failure or deadlock, which a caller may retry. */
export function isRetryableConflict(err: unknown): boolean {
  const state = sqlState(err);
  return state === "40001" || state === "40P01";
}

function sqlState(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : undefined;
}
