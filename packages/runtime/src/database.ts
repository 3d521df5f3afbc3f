import { ConfigError, env, type EnvValues } from "./config.js";
import { secretFromFile } from "./secret-file.js";

/** The relational store's variables, read by every service that keeps data (account, chat, presence, notify). */
export const databaseEnv = {
  /**
   * A postgres:// URL; unset: the embedded SQLite in the data folder. TLS
   * with verification: ?sslmode=verify-full&sslrootcert=/path/ca.pem (README).
   */
  DATABASE_URL: env.postgresUrl(),
  /**
   * A file holding the database password (a mounted Kubernetes Secret),
   * which overrides the URL's password; read at start and again for each
   * new connection, so a rotated password needs no restart.
   */
  DATABASE_PASSWORD_FILE: env.optionalString(),
  /**
   * The embedded SQLite's durability: "full" syncs every commit to disk
   * before the ack (nothing acknowledged is lost, even on power loss);
   * "normal" survives a crash of the process but may lose the last commits
   * when the machine itself loses power.
   */
  SQLITE_SYNCHRONOUS: env.oneOf(["full", "normal"] as const, "full"),
};

export interface DatabaseSettings {
  /** Undefined: the embedded SQLite. */
  readonly url: string | undefined;
  /** The password for each new connection, from DATABASE_PASSWORD_FILE; undefined: the URL's own. */
  readonly password: (() => string) | undefined;
  /** The embedded SQLite's PRAGMA synchronous (ignored with a URL). */
  readonly synchronous: "full" | "normal";
}

export function databaseSettings(vars: EnvValues<typeof databaseEnv>): DatabaseSettings {
  if (vars.DATABASE_PASSWORD_FILE !== undefined && vars.DATABASE_URL === undefined) {
    throw new ConfigError(["DATABASE_PASSWORD_FILE: needs DATABASE_URL (the embedded SQLite has no password)"]);
  }
  return Object.freeze({
    url: vars.DATABASE_URL,
    password: vars.DATABASE_PASSWORD_FILE === undefined ? undefined : secretFromFile("DATABASE_PASSWORD_FILE", vars.DATABASE_PASSWORD_FILE),
    synchronous: vars.SQLITE_SYNCHRONOUS,
  });
}
