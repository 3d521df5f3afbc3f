import type pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import type { Logger } from "pino";

/**
 * The pg client configuration for a DATABASE_URL, with the password from
 * `password` (DATABASE_PASSWORD_FILE) when given.
 *
 * The URL is parsed here rather than handed to pg as a connectionString:
 * pg lets a connection string's (possibly empty) password override any
 * password option, so a password read from a file at each new connection
 * needs the parsed form. The parser is pg's own (pg-connection-string, the
 * version pg pins), so the URL means exactly what it means to pg.
 *
 * What sslmode means with pg 8.23 and pg-connection-string 2.14:
 * - verify-full: TLS; the server's certificate must chain to sslrootcert
 *   (Node's default CAs without it) and name the host. Recommended:
 *   ?sslmode=verify-full&sslrootcert=/path/ca.pem
 * - require, prefer, verify-ca: today the same as verify-full (pg prints a
 *   deprecation warning); pg 9 gives them libpq's meaning (require encrypts
 *   without verifying, prefer may fall back to cleartext), so write
 *   verify-full. uselibpqcompat=true asks for libpq's meaning now.
 * - no-verify: TLS that accepts any certificate, so anyone on the path can
 *   pose as the database: logged as a warning here.
 * - disable (or no sslmode): cleartext; logged as a warning beyond loopback.
 * sslrootcert, sslcert and sslkey are read here, once: a new CA bundle or
 * client certificate takes a (rolling) restart.
 */
export function connectionConfig(url: string, password: (() => string) | undefined, logger?: Logger): pg.ClientConfig {
  let config: pg.ClientConfig;
  try {
    config = parseIntoClientConfig(url);
  } catch (err) {
    // The parser keeps the URL out of its errors; a file it cannot read is named by its path.
    throw new Error(`DATABASE_URL cannot be used: ${(err as Error).message}`);
  }
  if (password) {
    password(); // a password file that cannot be read stops the start now, naming the variable
    config.password = () => password();
  }
  warnAboutWeakTransport(config, logger);
  return config;
}

function warnAboutWeakTransport(config: pg.ClientConfig, logger: Logger | undefined): void {
  const host = config.host ?? "";
  const ssl = config.ssl;
  if (typeof ssl === "object" && (ssl.rejectUnauthorized === false || ssl.checkServerIdentity !== undefined)) {
    logger?.warn({ host }, "DATABASE_URL's TLS does not fully verify the server: use sslmode=verify-full with sslrootcert");
  } else if (!ssl && process.env.PGSSLMODE === undefined && !isLocal(host)) {
    logger?.warn({ host }, "DATABASE_URL connects without TLS beyond this machine: add ?sslmode=verify-full&sslrootcert=<CA file> (README)");
  }
}

function isLocal(host: string): boolean {
  return host === "" || host.startsWith("/") || host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}
