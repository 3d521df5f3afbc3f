import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A dependency (a database, another service) cannot answer now: the request
 * may succeed if repeated later, so callers are told UNAVAILABLE. The message
 * names the dependency in words ("the id service is unavailable; retry");
 * what actually failed (an address, a driver's text) stays in `cause`, for
 * the log only.
 */
export class DependencyUnavailable extends Error {
  override name = "DependencyUnavailable";

  constructor(
    readonly dependency: string,
    options: { cause: unknown },
  ) {
    super(`${dependency} is unavailable; retry`, options);
  }
}

/** The status for an outage of `dependency` ("the message store"), keeping the failure as its cause for the log. */
export function unavailable(dependency: string, cause: unknown): ConnectError {
  return new ConnectError(`${dependency} is unavailable; retry`, Code.Unavailable, undefined, undefined, cause);
}

/**
 * What an adapter throws when a call to `dependency` failed: a
 * DependencyUnavailable for an outage, anything else unchanged (a downstream
 * service's answer to bad input is the caller's business; a bug stays a bug).
 */
export function dependencyFailure(dependency: string, err: unknown): unknown {
  if (err instanceof DependencyUnavailable) return err; // named already, nearer to what failed
  return isOutage(err) ? new DependencyUnavailable(dependency, { cause: err }) : err;
}

/**
 * Statuses of a called service that is down, unreachable, overloaded
 * (gRPC's convention for shedding load is UNAVAILABLE) or too slow.
 * RESOURCE_EXHAUSTED is not one: it is a quota or rate limit meant for the
 * caller (a throttled log-in), passed on as it is.
 */
const OUTAGE_CODES: ReadonlySet<Code> = new Set([Code.Unavailable, Code.DeadlineExceeded]);

/**
 * Node's errors for a peer that cannot be reached or went away
 * (node-postgres surfaces them as they are), among them an HTTP/2 session
 * the peer tore down with an error (GOAWAY: it was overloaded, or we reset
 * too many streams at once), which Connect reports as INTERNAL with it as
 * the cause.
 */
const NETWORK_ERRNOS: ReadonlySet<string> = new Set([
  "ERR_HTTP2_SESSION_ERROR",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a lost or refusing database: class 08 (connection exception),
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, and
 * class 53 (insufficient resources: out of connections, memory or disk).
 */
function isOutageSqlState(state: string): boolean {
  return state.startsWith("08") || state.startsWith("53") || state === "57P01" || state === "57P02" || state === "57P03";
}

/**
 * Errors node-postgres, its pool and the SQLite engine raise with no code
 * when the connection is gone: matched by their text, which node-postgres
 * has kept for years (checked against pg 8.23) and the engine is ours.
 */
const LOST_CONNECTION_MESSAGES: readonly RegExp[] = [
  /^Connection terminated/, // pg: "Connection terminated unexpectedly", "... due to connection timeout"
  /^timeout exceeded when trying to connect$/, // pg-pool: no connection within connectionTimeoutMillis
  /is not queryable$/, // pg: a client whose connection already failed or was closed
  /^Query read timeout$/, // pg: query_timeout
  /^the SQLite (engine is closed|worker exited)/, // the embedded engine after close(), or its thread died
];

/**
 * SQLite's primary result codes (the low byte of node:sqlite's `errcode`)
 * for a database that cannot serve now: BUSY and LOCKED (another process
 * holds the file), IOERR, FULL (disk full), CANTOPEN.
 */
const SQLITE_OUTAGE_CODES: ReadonlySet<number> = new Set([5, 6, 10, 13, 14]);

/**
 * Whether `err` says a dependency is down, unreachable or overloaded (so
 * retrying later may work), as opposed to a bug or bad input: a Connect status
 * of an outage, a network error, a database's connection or resource error,
 * or a driver's lost-connection error, also when wrapped as another error's
 * cause or inside an AggregateError (Node's connect to several addresses).
 */
export function isOutage(err: unknown, depth = 0): boolean {
  if (depth > 4 || typeof err !== "object" || err === null) return false;
  if (err instanceof DependencyUnavailable) return true;
  if (err instanceof ConnectError) {
    if (OUTAGE_CODES.has(err.code)) return true;
    // A local transport failure is INTERNAL with Node's error as the cause; a peer's INTERNAL answer has none.
    return err.code === Code.Internal && isOutage(err.cause, depth + 1);
  }
  const { code, errcode, message, cause } = err as { code?: unknown; errcode?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === "string" && (NETWORK_ERRNOS.has(code) || (/^[0-9A-Z]{5}$/.test(code) && isOutageSqlState(code)))) return true;
  if (code === "ERR_SQLITE_ERROR" && typeof errcode === "number" && SQLITE_OUTAGE_CODES.has(errcode & 0xff)) return true;
  if (typeof message === "string" && LOST_CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) return true;
  if (err instanceof AggregateError && err.errors.some((inner) => isOutage(inner, depth + 1))) return true;
  return isOutage(cause, depth + 1);
}
