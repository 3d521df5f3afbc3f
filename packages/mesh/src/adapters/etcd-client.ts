import { circuitBreaker, ConsecutiveBreaker, handleWhen, retry, wrap } from "cockatiel";
import { Etcd3, isRecoverableError, type IOptions, type Namespace } from "etcd3";
import { JitteredBackoff, type EtcdOperation } from "@parley/runtime";
import { RegistryAccessDenied, RegistryUnavailable } from "../errors.js";
import { etcdCredentials, isAccessDenied, type EtcdAuth, type EtcdTls } from "./etcd-credentials.js";
import { FailureReasons } from "./etcd-failure-reason.js";
import { TokenRenewal } from "./etcd-token-renewal.js";

export type { EtcdAuth, EtcdTls } from "./etcd-credentials.js";

/** How the etcd adapters reach etcd; built from ETCD_* / DISCOVERY_* variables (see config.ts). */
export interface EtcdSettings {
  /** Client URLs such as http://10.0.0.5:2379. */
  readonly endpoints: readonly string[];
  /** Every key lives under this prefix, so several deployments (or test runs) can share one etcd. */
  readonly prefix: string;
  /** TTL of every lease this process holds: how long its keys outlive it. */
  readonly leaseTtlSeconds: number;
  /** Deadline of each etcd call (streams excepted). */
  readonly timeoutMs: number;
  /** TLS towards https:// endpoints (always verifying etcd's certificate); absent for http://. */
  readonly tls?: EtcdTls;
  /** etcd's user and password authentication; absent when etcd's auth is off or a client certificate names the user. */
  readonly auth?: EtcdAuth;
}

export interface EtcdConnection {
  /** The client, scoped to the settings' prefix. */
  readonly ns: Namespace;
  readonly settings: EtcdSettings;
  /** host:port list for messages: never the URLs themselves, which could carry credentials. */
  readonly endpoints: string;
  /**
   * Wraps a failed call in RegistryUnavailable naming the endpoints and what
   * was attempted; RegistryAccessDenied when etcd refused the credentials.
   * Counts the failure under `operation` (once: a RegistryUnavailable passed
   * in again is returned as it is).
   */
  unavailable(operation: EtcdOperation, what: string, cause: unknown): RegistryUnavailable;
  /** Counts a failure that is not thrown (a keep-alive that failed, a watch stream lost). */
  failed(operation: EtcdOperation): void;
  /** Closes the client. Revoke or release every lease first: etcd3's close() does not stop keep-alives. */
  close(): void;
}

/**
 * Opens a client (connections are made on first use). Reads the TLS files
 * and the password once here, so a missing or malformed one stops the start
 * with a message naming its variable; throws Error for those.
 */
export function connectEtcd(settings: EtcdSettings, onError: (operation: EtcdOperation) => void = () => {}): EtcdConnection {
  const timeoutMs = settings.timeoutMs;
  const security: Pick<IOptions, "credentials" | "auth"> = etcdCredentials(settings);
  const reasons = new FailureReasons();
  const global = retry(handleWhen(isRecoverableError), { maxAttempts: 2 });
  global.onRetry((attempt) => "error" in attempt && reasons.note(attempt.error));
  global.onSuccess(() => reasons.forget());
  const renewal = new TokenRenewal();
  const client = new Etcd3({
    hosts: [...settings.endpoints],
    ...security,
    // Without a deadline a call to a hung (not dead) etcd would wait forever.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    faultHandling: {
      // etcd3's default opens the circuit for 5 s after 3 failures, which
      // delays recovery by up to 5 s after etcd is back; 1 s is enough to
      // keep a dead endpoint from being hammered.
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
      global: wrap(renewal.policy, global),
      watchBackoff: new JitteredBackoff({ initialMs: 100, maxMs: 2000 }),
    },
    grpcOptions: {
      // grpc-js waits up to 120 s between reconnection attempts by default.
      "grpc.initial_reconnect_backoff_ms": 200,
      "grpc.max_reconnect_backoff_ms": 2000,
      // Notices an etcd that stopped answering (hung, or a dropped network)
      // on idle watch streams; etcd accepts pings every 5 s or slower.
      "grpc.keepalive_time_ms": 10_000,
      "grpc.keepalive_timeout_ms": 5_000,
    },
  });
  renewal.bind(client);
  const endpoints = settings.endpoints.map(hostOf).join(",");
  return {
    ns: client.namespace(settings.prefix),
    settings,
    endpoints,
    unavailable(operation, what, cause) {
      if (cause instanceof RegistryUnavailable) return cause;
      onError(operation);
      if (isAccessDenied(cause)) return new RegistryAccessDenied(endpoints, what, { cause });
      return new RegistryUnavailable(endpoints, what, { cause: reasons.explain(cause) });
    },
    failed: onError,
    close: () => client.close(),
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(invalid endpoint)";
  }
}
