import pg from "pg";
import type { Logger } from "pino";
import type { Db, DbErrorListener, QueryResult } from "../port.js";
import { connectionConfig } from "./postgres-connection.js";

export interface PostgresOptions {
  /**
   * A postgres:// URL. TLS that verifies the server, the recommended form:
   * ?sslmode=verify-full&sslrootcert=/path/ca.pem (postgres-connection.ts
   * says what each sslmode means with this pg version).
   */
  url: string;
  /** Returns the password, called for each new connection; overrides the URL's (DATABASE_PASSWORD_FILE). */
  password?: () => string;
  /** Pool size; Postgres connections are costly, so keep it modest. */
  maxConnections?: number;
  logger?: Logger;
  /** Told of each failed query and transaction. */
  onError?: DbErrorListener;
}

/**
 * How long a pooled connection may sit idle before the pool closes it. pg's
 * default, 10 s, closed the connections a burst had opened as soon as the
 * load eased (the pool hands out the most recently used one first), and the
 * next burst opened them again: a new server process per connection, whose
 * first statements also read the catalogs and compile the append function
 * anew. At 1,000 msg/s the first appends on fresh connections took 60-300 ms
 * and the distributed pairs-rate p99 was 216 ms [78-532], against 59 [40-223]
 * with connections kept (docs/performance.md). Five minutes still gives back
 * what a quiet night does not use.
 */
export const IDLE_CONNECTION_CLOSE_MS = 5 * 60_000;

/** The distributed default: a real Postgres server through a `pg` pool. */
export async function openPostgresDb(options: PostgresOptions): Promise<Db> {
  const pool = new pg.Pool({
    ...connectionConfig(options.url, options.password, options.logger),
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: IDLE_CONNECTION_CLOSE_MS,
    // Idle connections do not keep a process alive by themselves: with connections kept for
    // minutes, a script or test that ends without close() would otherwise wait that long to exit.
    allowExitOnIdle: true,
  });
  // An idle client's error (server restart, connection killed) must not crash the process.
  pool.on("error", (err) => options.logger?.warn({ err }, "idle postgres connection failed"));
  const client = await pool.connect(); // fail fast at start when the server is unreachable
  client.release();
  return new PostgresDb(pool, options.onError ?? (() => {}));
}

class PostgresDb implements Db {
  constructor(
    private readonly pool: pg.Pool,
    private readonly onError: DbErrorListener,
  ) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    try {
      const result = await this.pool.query(sql, params as unknown[]);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
    } catch (err) {
      this.onError("query", err);
      throw err;
    }
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    try {
      return await this.#transaction(fn);
    } catch (err) {
      this.onError("transaction", err);
      throw err;
    }
  }

  async #transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // The pool stops listening for a client's errors while it is checked out. Without
    // this listener a connection that dies mid-transaction (server restart, killed
    // backend) emits an unhandled 'error' and crashes the process. A client that
    // failed, or could not roll back, is destroyed instead of going back to the pool.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const result = await fn(new PostgresTx(client));
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch((rollbackErr: Error) => {
        broken ??= rollbackErr;
      });
      throw err;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class PostgresTx implements Db {
  constructor(private readonly client: pg.PoolClient) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    const result = await this.client.query(sql, params as unknown[]);
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
  }

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async close(): Promise<void> {
    throw new Error("close the database, not a transaction");
  }
}
