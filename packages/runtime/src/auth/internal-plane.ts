import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { z } from "zod";
import { ConfigError, env, type EnvValues } from "../config.js";
import type { Logger } from "../logger.js";
import { ClientTls, isLoopbackHost, ServerTls } from "../tls.js";
import { grpcTransport } from "../transport.js";
import { WatchedFile } from "../watched-file.js";
import type { AccessPolicy } from "./access-policy.js";
import { serviceTokenInterceptor } from "./client-auth.js";
import { parsePrivateKey, type SigningKey } from "./keys.js";
import { parsePrincipal, PRINCIPAL_RULE, type Principal, type Role } from "./principals.js";
import { serviceAuthInterceptor } from "./server-auth.js";
import { ServiceTokenSigner, ServiceTokenVerifier, type SigningKeySource } from "./service-tokens.js";
import { TrustStore } from "./trust-store.js";

/** Variables of every process on the internal plane (see docs/security.md). */
export const internalPlaneEnv = {
  /** This process's Ed25519 private key (PEM); it signs the service tokens of its calls. */
  SERVICE_KEY_FILE: env.optionalString(),
  /** The public keys this process accepts service tokens from, and whom each identifies (JSON). */
  SERVICE_TRUST_FILE: env.optionalString(),
  /** Lifetime of the tokens this process mints; servers refuse any living longer than an hour. */
  SERVICE_TOKEN_TTL_SECONDS: env.int(30, 3_600, 300),
  /** The certificate and key this process's internal server presents (PEM). */
  TLS_CERT_FILE: env.optionalString(),
  TLS_KEY_FILE: env.optionalString(),
  /** CA bundle internal servers are verified against; when set, every internal call uses TLS. */
  TLS_CA_FILE: env.optionalString(),
  /**
   * The name every internal server's certificate carries, checked instead of
   * the address called: in Kubernetes instances register pod IPs, which one
   * certificate per Deployment cannot name.
   */
  TLS_SERVER_NAME: z
    .string()
    .regex(/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/, {
      error: "must be a DNS name, such as parley-internal.parley.svc",
    })
    .optional(),
  /** Serve and call in cleartext beyond loopback (only behind a proxy or mesh that encrypts). */
  ALLOW_PLAINTEXT: env.bool(false),
  /** How often key, trust, certificate and CA files are checked for changes. */
  CREDENTIALS_RELOAD_MS: env.int(100, 600_000, 5_000),
};

export interface InternalPlaneSettings {
  readonly keyFile: string | undefined;
  readonly trustFile: string | undefined;
  readonly tokenTtlSeconds: number;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly caFile: string | undefined;
  /** Checked against every internal server's certificate instead of the address called. */
  readonly serverName?: string | undefined;
  readonly allowPlaintext: boolean;
  readonly reloadMs: number;
}

export function internalPlaneSettings(vars: EnvValues<typeof internalPlaneEnv>): InternalPlaneSettings {
  if ((vars.TLS_CERT_FILE === undefined) !== (vars.TLS_KEY_FILE === undefined)) {
    throw new ConfigError(["TLS_CERT_FILE and TLS_KEY_FILE: set both (a certificate and its key) or neither"]);
  }
  if (vars.TLS_SERVER_NAME !== undefined && vars.TLS_CA_FILE === undefined) {
    throw new ConfigError(["TLS_SERVER_NAME: needs TLS_CA_FILE (the name is checked on TLS connections only)"]);
  }
  return Object.freeze({
    keyFile: vars.SERVICE_KEY_FILE,
    trustFile: vars.SERVICE_TRUST_FILE,
    tokenTtlSeconds: vars.SERVICE_TOKEN_TTL_SECONDS,
    tls: vars.TLS_CERT_FILE === undefined ? undefined : Object.freeze({ certFile: vars.TLS_CERT_FILE, keyFile: vars.TLS_KEY_FILE! }),
    caFile: vars.TLS_CA_FILE,
    serverName: vars.TLS_SERVER_NAME,
    allowPlaintext: vars.ALLOW_PLAINTEXT,
    reloadMs: vars.CREDENTIALS_RELOAD_MS,
  });
}

/** How a process takes part in the authenticated internal plane. */
export interface InternalPlane {
  /** Who this process is to the others. */
  readonly principal: Principal;
  /** A gRPC transport to `audience` (a service name) at `address` (host:port or URL), with this process's token on every call. */
  transport(address: string, audience: string): Transport;
  /** A service token for `audience`, for clients Parley does not build (grpc-js stubs, tools). */
  token(audience: string): Promise<string>;
  /** The server interceptor enforcing `policy`: authentication, authorization, acting user. */
  guard(policy: AccessPolicy): Interceptor;
  /** The internal server's TLS; undefined serves cleartext h2c (loopback, or ALLOW_PLAINTEXT). */
  readonly serverTls: ServerTls | undefined;
  /** The trust store, for tests and the embedded mode's in-process keys. */
  readonly trust: TrustStore;
  /** Stops watching credential files. */
  close(): void;
}

export interface OpenPlaneOptions {
  /** The hosts this process's internal servers bind: beyond loopback they need TLS (or ALLOW_PLAINTEXT). */
  listenHosts: readonly string[];
  /** False for processes that call no other service (discovery): no key file needed. */
  callsOthers?: boolean;
}

/**
 * Opens the internal plane from the validated settings. Every problem a
 * file has (missing, unreadable, malformed, a key not in the trust file, a
 * certificate not matching its key) stops the start with a message naming
 * the variable and the file.
 */
export function openInternalPlane(settings: InternalPlaneSettings, as: Role | `${Role}:${string}`, logger: Logger, options: OpenPlaneOptions): InternalPlane {
  const principal = parsePrincipal(as);
  if (principal === undefined) throw new Error(`"${as}" is not a principal: it must be ${PRINCIPAL_RULE}`);
  const problems: string[] = [];
  const callsOthers = options.callsOthers ?? true;
  if (settings.trustFile === undefined)
    problems.push(
      "SERVICE_TRUST_FILE: is required: every internal call is authenticated (see docs/security.md; `npm run credentials` makes a development set)",
    );
  if (callsOthers && settings.keyFile === undefined)
    problems.push("SERVICE_KEY_FILE: is required: this process signs the service tokens of its calls with it (see docs/security.md)");
  const exposed = options.listenHosts.filter((host) => !isLoopbackHost(host));
  if (settings.tls === undefined && exposed.length > 0 && !settings.allowPlaintext) {
    problems.push(
      `TLS_CERT_FILE: is required to listen on ${exposed.join(", ")} (not loopback); set TLS_CERT_FILE and TLS_KEY_FILE, or ALLOW_PLAINTEXT=true if a proxy or service mesh encrypts the traffic`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const opened: { close(): void }[] = [];
  try {
    const trust = fileStep("SERVICE_TRUST_FILE", () => TrustStore.fromFile(settings.trustFile!, logger, settings.reloadMs));
    opened.push(trust);
    const verifier = new ServiceTokenVerifier(trust, { maxTtlSeconds: 3_600, clockToleranceSeconds: 30 });
    const keys = callsOthers ? fileStep("SERVICE_KEY_FILE", () => new RotatingKey(settings.keyFile!, trust, principal, logger, settings.reloadMs)) : undefined;
    if (keys) opened.push(keys);
    const serverTls = settings.tls && fileStep("TLS_CERT_FILE / TLS_KEY_FILE", () => new ServerTls(settings.tls!, logger, settings.reloadMs));
    if (serverTls) opened.push(serverTls);
    const clientTls =
      settings.caFile === undefined
        ? undefined
        : fileStep("TLS_CA_FILE", () => new ClientTls(settings.caFile!, logger, settings.reloadMs, settings.serverName));
    if (clientTls) opened.push(clientTls);
    const signer = keys && new ServiceTokenSigner(principal, keys, settings.tokenTtlSeconds);
    return {
      principal,
      trust,
      serverTls,
      transport(address, audience) {
        if (signer === undefined) throw new Error(`${principal.name} has no SERVICE_KEY_FILE and cannot call ${audience}`);
        return internalTransport(address, [serviceTokenInterceptor(signer, audience)], clientTls, settings.allowPlaintext);
      },
      token(audience) {
        if (signer === undefined) throw new Error(`${principal.name} has no SERVICE_KEY_FILE and cannot sign tokens`);
        return signer.token(audience);
      },
      guard: (policy) => serviceAuthInterceptor({ policy, verifier, trust, logger }),
      close: () => {
        for (const o of opened) o.close();
      },
    };
  } catch (err) {
    for (const o of opened) o.close();
    throw err;
  }
}

/**
 * The base URL for an internal address: https when this process verifies
 * internal servers (TLS_CA_FILE), else h2c, which carries tokens in the
 * clear and is therefore refused beyond loopback unless ALLOW_PLAINTEXT.
 */
function internalTransport(address: string, interceptors: Interceptor[], tls: ClientTls | undefined, allowPlaintext: boolean): Transport {
  const url = new URL(/^https?:\/\//.test(address) ? address : `http://${address}`);
  url.protocol = tls ? "https:" : "http:";
  const base = `${url.protocol}//${url.host}`;
  if (!tls && !allowPlaintext && !isLoopbackHost(url.hostname)) {
    const refuse = (): never => {
      throw new ConnectError(
        `refusing to call ${url.host} in cleartext; set TLS_CA_FILE (or ALLOW_PLAINTEXT=true behind an encrypting proxy)`,
        Code.Unavailable,
      );
    };
    return { unary: refuse, stream: refuse };
  }
  return grpcTransport(base, interceptors, tls);
}

/**
 * The signing key from SERVICE_KEY_FILE. A new key written to the file is
 * used once the trust file lists it for this principal, so the order of a
 * rotation (trust the new key everywhere, then switch) cannot lock the
 * service out if someone switches first.
 */
class RotatingKey implements SigningKeySource {
  readonly #file: WatchedFile<SigningKey>;
  #active: SigningKey;
  #warned = "";

  constructor(
    path: string,
    private readonly trust: TrustStore,
    private readonly principal: Principal,
    private readonly logger: Logger,
    reloadMs: number,
  ) {
    this.#file = new WatchedFile(path, parsePrivateKey, logger, reloadMs);
    this.#active = this.#file.value;
    const owner = trust.lookup(this.#active.kid)?.principal.name;
    if (owner !== principal.name) {
      this.#file.close();
      throw new Error(
        `the key in ${path} is ${owner === undefined ? "not in SERVICE_TRUST_FILE" : `registered to ${owner}`}; add its public key there for ${principal.name}`,
      );
    }
  }

  get current(): SigningKey {
    const latest = this.#file.value;
    if (latest.kid === this.#active.kid) return this.#active;
    if (this.trust.lookup(latest.kid)?.principal.name === this.principal.name) {
      this.#active = latest;
      this.logger.info({ kid: latest.kid }, "signing service tokens with the new key");
    } else if (this.#warned !== latest.kid) {
      this.#warned = latest.kid;
      this.logger.warn(
        { kid: latest.kid },
        `the new key in SERVICE_KEY_FILE is not trusted for ${this.principal.name} yet; still signing with the previous key`,
      );
    }
    return this.#active;
  }

  close(): void {
    this.#file.close();
  }
}

function fileStep<T>(variable: string, open: () => T): T {
  try {
    return open();
  } catch (err) {
    throw new ConfigError([`${variable}: ${(err as Error).message}`]);
  }
}
