import { auth, Client, types } from "cassandra-driver";
import type { Row } from "./rows.js";

/** How to reach the cluster (message-store-config.ts validates these). */
export interface CassandraSettings {
  /** host or host:port (9042 by default) of some nodes; the driver discovers the rest. */
  contactPoints: readonly string[];
  /** The data center this process is in: queries go to its nodes, and the keyspace replicates there. */
  localDataCenter: string;
  keyspace: string;
  /** Replicas in the local data center when the keyspace is created; an existing keyspace is left as it is. */
  replicationFactor: number;
  username?: string;
  /** Read at each new connection's sign-in, so a rotated password file is used without a restart. */
  password?: () => string;
}

/**
 * The queries the store runs, with the consistency each kind needs. Every
 * statement is prepared (the driver caches it per query string).
 *
 * - read/write: LOCAL_QUORUM, so a read after an acknowledged write sees it.
 * - serialRead: SERIAL, which also sees (and finishes) a lightweight
 *   transaction still in flight: for state that is changed by compare-and-set.
 * - lwt: a lightweight transaction (Paxos at SERIAL, committed at LOCAL_QUORUM).
 *   SERIAL rather than LOCAL_SERIAL, so a user's seqs stay linearizable even if
 *   chat ever writes from two data centers; in one data center both cost the same.
 */
export interface Cql {
  readonly keyspace: string;
  read(query: string, params: readonly unknown[]): Promise<Row[]>;
  serialRead(query: string, params: readonly unknown[]): Promise<Row[]>;
  /** Every row, fetched page by page. */
  scan(query: string, params: readonly unknown[], pageSize?: number): AsyncIterable<Row>;
  write(query: string, params: readonly unknown[]): Promise<void>;
  /** Whether the condition held; when not, the row as it stood (the whole row for IF NOT EXISTS, the condition's columns otherwise; absent when there is no row). */
  lwt(query: string, params: readonly unknown[]): Promise<{ applied: boolean; row: Row | undefined }>;
  /** Schema statements: not prepared, at the driver's defaults (it waits for schema agreement). */
  ddl(query: string): Promise<void>;
  close(): Promise<void>;
}

const { localQuorum, serial } = types.consistencies;

/** The store's Cql over cassandra-driver. */
export class DriverCql implements Cql {
  constructor(
    private readonly client: Client,
    readonly keyspace: string,
  ) {}

  async read(query: string, params: readonly unknown[]): Promise<Row[]> {
    const result = await this.client.execute(query, [...params], { prepare: true, consistency: localQuorum, isIdempotent: true });
    return result.rows as unknown as Row[];
  }

  async serialRead(query: string, params: readonly unknown[]): Promise<Row[]> {
    const result = await this.client.execute(query, [...params], { prepare: true, consistency: serial, isIdempotent: true });
    return result.rows as unknown as Row[];
  }

  async *scan(query: string, params: readonly unknown[], pageSize = 1_000): AsyncIterable<Row> {
    const result = await this.client.execute(query, [...params], { prepare: true, consistency: localQuorum, isIdempotent: true, fetchSize: pageSize });
    // The result set's async iterator fetches the following pages as it goes.
    for await (const row of result) yield row as unknown as Row;
  }

  async write(query: string, params: readonly unknown[]): Promise<void> {
    // Plain writes here are idempotent (same values, or deletes), so the driver may retry them.
    await this.client.execute(query, [...params], { prepare: true, consistency: localQuorum, isIdempotent: true });
  }

  async lwt(query: string, params: readonly unknown[]): Promise<{ applied: boolean; row: Row | undefined }> {
    const result = await this.client.execute(query, [...params], { prepare: true, consistency: localQuorum, serialConsistency: serial });
    const row = result.rows[0] as unknown as Row | undefined;
    return { applied: result.wasApplied(), row };
  }

  async ddl(query: string): Promise<void> {
    await this.client.execute(query);
  }

  close(): Promise<void> {
    return this.client.shutdown();
  }
}

/** Signs in with the password file's current content at each new connection. */
class PasswordFileAuth implements auth.AuthProvider {
  constructor(
    private readonly username: string,
    private readonly password: () => string,
  ) {}

  newAuthenticator(endpoint: string, name: string): auth.Authenticator {
    return new auth.PlainTextAuthProvider(this.username, this.password()).newAuthenticator(endpoint, name);
  }
}

/** Connects (fails fast with NoHostAvailableError when no contact point answers). */
export async function connectCassandra(settings: CassandraSettings): Promise<DriverCql> {
  const client = new Client({
    contactPoints: [...settings.contactPoints],
    localDataCenter: settings.localDataCenter,
    ...(settings.username !== undefined && settings.password !== undefined ? { authProvider: new PasswordFileAuth(settings.username, settings.password) } : {}),
    // bigint columns as BigInt both ways (Snowflake ids and seqs never pass through a double),
    // maps and sets as Map and Set (so bigint keys stay bigint), unset for undefined.
    encoding: { map: Map, set: Set, useBigIntAsLong: true, useBigIntAsVarint: true, useUndefinedAsUnset: true },
    queryOptions: { prepare: true, consistency: localQuorum, serialConsistency: serial },
  });
  await client.connect();
  return new DriverCql(client, settings.keyspace);
}
