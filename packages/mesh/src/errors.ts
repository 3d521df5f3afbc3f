import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Domain errors of the mesh (registry, worker ids, PickGateway), and the one
 * place that turns them into statuses. Messages name what was wrong and what
 * to do; they never carry credentials (etcd endpoints are shown as host:port
 * only).
 */

/** An instance the registry refuses to store: every problem is listed. */
export class InvalidInstance extends Error {
  constructor(
    readonly service: string,
    readonly instanceId: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid instance "${instanceId}" of "${service}": ${problems.join("; ")}`);
    this.name = "InvalidInstance";
  }
}

/** Another live registration of the same service already uses this instance id. */
export class DuplicateInstance extends Error {
  constructor(
    readonly service: string,
    readonly instanceId: string,
  ) {
    super(`instance "${instanceId}" of "${service}" is already registered by another live process`);
    this.name = "DuplicateInstance";
  }
}

/** The registry's backend (etcd) cannot be reached or did not answer in time. */
export class RegistryUnavailable extends Error {
  constructor(
    readonly endpoints: string,
    what: string,
    options?: ErrorOptions,
  ) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`etcd at ${endpoints} is unreachable (${what})${cause}`, options);
    this.name = "RegistryUnavailable";
  }
}

/**
 * etcd answered but refused this process's credentials: a wrong password or
 * user, or a role without access to the key prefix. A RegistryUnavailable
 * to the registry's users (the registry cannot serve them), but retrying at
 * start does not help, so a start fails at once with this message. The
 * message names the endpoints and etcd's reason, never the credentials.
 */
export class RegistryAccessDenied extends RegistryUnavailable {
  constructor(endpoints: string, what: string, options: { cause: unknown }) {
    super(endpoints, what, options);
    this.name = "RegistryAccessDenied";
    const reason = options.cause instanceof Error ? `: ${options.cause.message}` : "";
    this.message =
      `etcd at ${endpoints} refused this process's credentials (${what})${reason}; ` +
      "check ETCD_USERNAME and its password (or the client certificate), and that the user's role may read and write ETCD_PREFIX";
  }
}

/** Every worker id from 0 to 1023 is held by a live idgen instance. */
export class WorkerIdsExhausted extends Error {
  constructor(readonly count: number) {
    super(
      `all ${count} Snowflake worker ids are taken by live idgen instances; ` +
        "stop an idgen instance (or wait for a dead one's lease to expire) before starting another",
    );
    this.name = "WorkerIdsExhausted";
  }
}

/** No gateway is registered, or every registered one is draining. */
export class NoLiveGateway extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`no live gateway is registered; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
    this.name = "NoLiveGateway";
  }
}

/** A PickGateway request breaking a rule (the problem names the field). */
export class InvalidPickRequest extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = "InvalidPickRequest";
  }
}

/** Maps a domain error to the status the client sees; undefined for anything else. */
export function mapDiscoveryError(err: unknown): ConnectError | undefined {
  if (err instanceof NoLiveGateway) {
    // A gateway that starts or finishes a restart registers within seconds;
    // retry-after (whole seconds, as in HTTP) lets clients wait the hinted time.
    const seconds = String(Math.ceil(err.retryAfterMs / 1000));
    return new ConnectError(err.message, Code.Unavailable, { "retry-after": seconds }, undefined, err);
  }
  if (err instanceof RegistryUnavailable) {
    return new ConnectError("the registry is unreachable; retry", Code.Unavailable, undefined, undefined, err);
  }
  if (err instanceof InvalidInstance || err instanceof InvalidPickRequest)
    return new ConnectError(err.message, Code.InvalidArgument, undefined, undefined, err);
  return undefined;
}
