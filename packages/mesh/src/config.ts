import { z } from "zod";
import { ConfigError, env, isLoopbackHost, secretFromFile, type EnvValues } from "@parley/runtime";
import type { EtcdAuth, EtcdSettings, EtcdTls } from "./adapters/etcd-client.js";

/**
 * Variables every process that joins the mesh reads (each service, the
 * gateway, discovery). Without ETCD_ENDPOINTS a process runs on the
 * in-memory adapters (embedded mode).
 */
export const etcdEnv = {
  /** Comma-separated etcd client URLs, such as http://10.0.0.5:2379,http://10.0.0.6:2379. */
  ETCD_ENDPOINTS: z
    .string()
    .transform((value, ctx) => {
      const urls = value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      const bad = urls.filter((u) => !isEndpoint(u));
      if (urls.length === 0 || bad.length > 0) {
        ctx.addIssue({ code: "custom", message: "must be comma-separated http:// or https:// URLs with host and port, without credentials" });
        return z.NEVER;
      }
      return urls;
    })
    .optional(),
  /** Every key of this deployment lives under this prefix, so deployments can share one etcd. */
  ETCD_PREFIX: z
    .string()
    .regex(/^\/[A-Za-z0-9._/-]*\/$/, { error: 'must start and end with "/", such as /parley/' })
    .default("/parley/"),
  /** Deadline of each etcd call: how long a hung etcd can hold up a registration or a claim. */
  ETCD_TIMEOUT_MS: env.int(100, 60_000, 5_000),
  /**
   * TTL of every lease: how long a dead process's registration and worker id
   * outlive it. 10 s: a crashed instance leaves the registry (and frees its
   * worker id) within about 10 s, while a stall of up to 8 s (GC, a busy
   * host, an etcd leader election, which takes about 1-3 s) does not fence
   * idgen. etcd itself does not grant TTLs below about 2 s.
   */
  DISCOVERY_LEASE_TTL_SECONDS: env.int(2, 300, 10),
  /** How long a process retries reaching etcd at start before it exits with an error. */
  DISCOVERY_START_TIMEOUT_MS: env.int(0, 3_600_000, 60_000),
  /** This instance's zone (such as eu-west-1a), published with its registration; empty when unknown. */
  ZONE: z
    .string()
    .regex(/^[A-Za-z0-9._-]{0,63}$/, { error: "must be up to 63 of A-Z a-z 0-9 . _ -" })
    .default(""),
  /**
   * CA bundle (PEM) etcd's certificate is verified against, for https://
   * endpoints. Unset: the system's CAs (Node's bundled roots). The server
   * certificate is always verified, host name included.
   */
  ETCD_CA_FILE: env.optionalString(),
  /** Client certificate and key (PEM) for an etcd started with --client-cert-auth; both or neither. */
  ETCD_CERT_FILE: env.optionalString(),
  ETCD_KEY_FILE: env.optionalString(),
  /** etcd user this process signs in as (etcd's `auth enable`); needs ETCD_PASSWORD or ETCD_PASSWORD_FILE. */
  ETCD_USERNAME: env.optionalString(),
  /** That user's password. Prefer ETCD_PASSWORD_FILE: environment variables leak into process listings and crash dumps. */
  ETCD_PASSWORD: env.secret(env.optionalString()),
  /** A file holding the password (a mounted Kubernetes Secret), read at start and again at each sign-in. */
  ETCD_PASSWORD_FILE: env.optionalString(),
};

export interface RegistrySettings {
  /** Undefined: the in-memory adapters (embedded mode). */
  readonly etcd: EtcdSettings | undefined;
  readonly startTimeoutMs: number;
  readonly zone: string;
}

/**
 * The registry settings from the etcd variables; throws ConfigError listing
 * every half-configured pair. `ALLOW_PLAINTEXT` (internalPlaneEnv) lets a
 * password travel to http:// endpoints beyond loopback, for a network that
 * a proxy or service mesh encrypts.
 */
export function registrySettings(vars: EnvValues<typeof etcdEnv> & { readonly ALLOW_PLAINTEXT?: boolean }): RegistrySettings {
  const endpoints = vars.ETCD_ENDPOINTS;
  const problems = etcdSecurityProblems(vars);
  if (problems.length > 0) throw new ConfigError(problems);
  const tls = etcdTls(vars);
  const auth = etcdAuth(vars);
  return Object.freeze({
    etcd:
      endpoints === undefined
        ? undefined
        : Object.freeze({
            endpoints: Object.freeze(endpoints),
            prefix: vars.ETCD_PREFIX,
            leaseTtlSeconds: vars.DISCOVERY_LEASE_TTL_SECONDS,
            timeoutMs: vars.ETCD_TIMEOUT_MS,
            ...(tls ? { tls } : {}),
            ...(auth ? { auth } : {}),
          }),
    startTimeoutMs: vars.DISCOVERY_START_TIMEOUT_MS,
    zone: vars.ZONE,
  });
}

const ETCD_SECURITY_VARIABLES = ["ETCD_CA_FILE", "ETCD_CERT_FILE", "ETCD_KEY_FILE", "ETCD_USERNAME", "ETCD_PASSWORD", "ETCD_PASSWORD_FILE"] as const;

function etcdSecurityProblems(vars: EnvValues<typeof etcdEnv> & { readonly ALLOW_PLAINTEXT?: boolean }): string[] {
  const endpoints = vars.ETCD_ENDPOINTS;
  if (endpoints === undefined) {
    const stray = ETCD_SECURITY_VARIABLES.filter((name) => vars[name] !== undefined);
    return stray.length === 0 ? [] : [`${stray.join(", ")}: need ETCD_ENDPOINTS (without it this process uses no etcd)`];
  }
  const problems: string[] = [];
  const secure = endpoints.filter((url) => url.startsWith("https://"));
  if (secure.length > 0 && secure.length < endpoints.length) {
    problems.push("ETCD_ENDPOINTS: must be all https:// or all http://, not a mix");
  }
  const tlsFiles = (["ETCD_CA_FILE", "ETCD_CERT_FILE", "ETCD_KEY_FILE"] as const).filter((name) => vars[name] !== undefined);
  if (secure.length === 0 && tlsFiles.length > 0) {
    problems.push(`${tlsFiles.join(", ")}: only used with https:// ETCD_ENDPOINTS; make the endpoints https:// to talk TLS to etcd`);
  }
  if ((vars.ETCD_CERT_FILE === undefined) !== (vars.ETCD_KEY_FILE === undefined)) {
    problems.push("ETCD_CERT_FILE and ETCD_KEY_FILE: set both (a client certificate and its key) or neither");
  }
  const passwords = (["ETCD_PASSWORD", "ETCD_PASSWORD_FILE"] as const).filter((name) => vars[name] !== undefined);
  if (passwords.length === 2) problems.push("ETCD_PASSWORD and ETCD_PASSWORD_FILE: set one of them, not both");
  if (vars.ETCD_USERNAME !== undefined && passwords.length === 0) problems.push("ETCD_USERNAME: needs ETCD_PASSWORD_FILE (or ETCD_PASSWORD)");
  if (vars.ETCD_USERNAME === undefined && passwords.length > 0) problems.push(`${passwords.join(", ")}: needs ETCD_USERNAME`);
  const exposed = endpoints.filter((url) => url.startsWith("http://") && !isLoopbackHost(new URL(url).hostname));
  if (passwords.length > 0 && exposed.length > 0 && !vars.ALLOW_PLAINTEXT) {
    problems.push(
      `${passwords[0]}: would travel in cleartext to ${exposed.map((url) => new URL(url).host).join(", ")}; ` +
        "use https:// endpoints, or ALLOW_PLAINTEXT=true if a proxy or service mesh encrypts the traffic",
    );
  }
  return problems;
}

function etcdTls(vars: EnvValues<typeof etcdEnv>): EtcdTls | undefined {
  if (!vars.ETCD_ENDPOINTS?.[0]?.startsWith("https://")) return undefined;
  return Object.freeze({
    caFile: vars.ETCD_CA_FILE,
    client: vars.ETCD_CERT_FILE === undefined ? undefined : Object.freeze({ certFile: vars.ETCD_CERT_FILE, keyFile: vars.ETCD_KEY_FILE! }),
  });
}

function etcdAuth(vars: EnvValues<typeof etcdEnv>): EtcdAuth | undefined {
  if (vars.ETCD_USERNAME === undefined) return undefined;
  const literal = vars.ETCD_PASSWORD;
  // A function, not a string: the settings can be logged or inspected without showing the password.
  const password = literal !== undefined ? () => literal : secretFromFile("ETCD_PASSWORD_FILE", vars.ETCD_PASSWORD_FILE!);
  return Object.freeze({ username: vars.ETCD_USERNAME, password });
}

/** An optional host:port to publish in the registry instead of the listening address. */
export function advertiseAddress() {
  return z
    .string()
    .regex(/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([1-9]\d{0,4})$/, { error: "must be host:port, such as 10.0.0.7:7002" })
    .optional();
}

function isEndpoint(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.port !== "" && url.username === "" && url.password === "";
  } catch {
    return false;
  }
}
