import { randomBytes } from "node:crypto";
import pg from "pg";

/** A database that exists only for one test run. */
export interface ThrowawayDatabase {
  /** Connection URL of the new database (same server and user as the admin URL). */
  url: string;
  /** Drops the database, closing any connection still open to it. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * The admin connection comes from PARLEY_TEST_PG_URL, which `npm test`
 * (scripts/test.sh) sets after making sure a server is running
 * (scripts/ensure-postgres.sh). Tests never fall back to a default server:
 * a missing URL is an error, so Postgres tests cannot be skipped by accident.
 */
const ADMIN_URL_ENV = "PARLEY_TEST_PG_URL";

/** A lowercase SQL identifier, so the name never needs quoting. */
const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,39}$/;

/**
 * Creates `<prefix>_<pid>_<random>` from template0 (empty, so no migration
 * or data leaks in from template1). Each test file should create its own and
 * drop it in an `after` hook.
 */
export async function createThrowawayDatabase(prefix = "parley_test"): Promise<ThrowawayDatabase> {
  if (!PREFIX_PATTERN.test(prefix)) throw new Error(`database prefix must match ${PREFIX_PATTERN}: ${prefix}`);
  const adminUrl = readAdminUrl();
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await runAsAdmin(adminUrl, `CREATE DATABASE ${name} TEMPLATE template0`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await runAsAdmin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

function readAdminUrl(): string {
  const value = process.env[ADMIN_URL_ENV];
  if (value === undefined || value.trim() === "") {
    throw new Error(
      `${ADMIN_URL_ENV} is not set, so the Postgres tests have no server. ` +
        "Run the tests through `npm test`, which starts or finds a Postgres server and sets it " +
        `(or set ${ADMIN_URL_ENV} to an admin URL such as postgres://postgres@127.0.0.1:5432/postgres).`,
    );
  }
  return value;
}

/** Runs one statement on a short-lived admin connection (CREATE/DROP DATABASE cannot run in a transaction). */
async function runAsAdmin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  // Without a listener, a connection error emitted outside a query (the server
  // going away, a FORCE drop elsewhere) would crash the test process.
  let connectionError: Error | undefined;
  client.on("error", (err) => {
    connectionError = err;
  });
  await client.connect();
  try {
    await client.query(sql);
  } catch (err) {
    throw new Error(`${sql} failed on the test Postgres server`, { cause: connectionError ?? err });
  } finally {
    await client.end().catch(() => undefined);
  }
}
