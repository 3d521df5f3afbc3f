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
   * The embedded SQLite's durability. "normal" (the default): a commit is in
   * the write-ahead log before its calls are acknowledged, so a crash or
   * kill of the process loses nothing; a crash of the machine itself (power
   * loss, kernel panic) may lose the last commits. "full" also waits for the
   * disk to sync every commit, which survives power loss but puts the
   * disk's sync latency (tens of milliseconds at the tail on this machine
   * kind) on every acknowledgement.
   */
  SQLITE_SYNCHRONOUS: env.oneOf(["full", "normal"] as const, "normal"),
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
