import type { InstanceInfo } from "./instance.js";

/**
 * The registry of live service instances.
 *
 * Guarantees, for every adapter:
 * - **Liveness.** A registration lives while its process keeps its lease: the
 *   etcd adapter attaches it to a lease of `ttlSeconds` kept alive by the
 *   process, so it disappears at most one TTL after the process dies or is
 *   cut off (plus etcd's expiry check, about 0.5 s); `Registration.close()`
 *   deregisters at once. The in-memory adapter lives and dies with its
 *   process and is for one process only (the embedded mode).
 * - **Validity.** `register` refuses a malformed instance (address not
 *   host:port with a port from 1 to 65535, a gateway without a ws:// or
 *   wss:// public URL, ...) with `InvalidInstance`, and an instance id that a
 *   live registration of the same service already holds with
 *   `DuplicateInstance`. Nothing invalid is ever stored.
 * - **Recovery.** If the backend loses the registration (etcd wiped, the
 *   lease expired while the process was paused), the adapter registers the
 *   instance again, with its latest load, as soon as the backend answers.
 * - **Load.** `Registration.update` changes load, capacity or draining; the
 *   change is stored before the promise resolves and reaches watchers.
 * - **Watch.** `watch(service)` resolves once it holds the live set (so it
 *   rejects with `RegistryUnavailable` when the backend cannot be reached at
 *   all), then follows every change. While the backend is unreachable it
 *   keeps the last known set (`connected` turns false) rather than emptying
 *   it, and catches up when the backend is back, including after the backend
 *   lost its data.
 * Failures to reach the backend are `RegistryUnavailable`; the backend
 * refusing this process's credentials is its subclass `RegistryAccessDenied`.
 */
export interface Registry {
  register(instance: InstanceInfo): Promise<Registration>;
  /** The live instances of `service` ("" for every service), read from the backend now. */
  list(service?: string): Promise<InstanceInfo[]>;
  watch(service: string, onChange?: (instances: readonly InstanceInfo[]) => void): Promise<InstanceWatch>;
  /**
   * True while this registry's registrations are certainly live: the etcd
   * adapter's lease was confirmed within its fencing window (see LeaseClock),
   * so after a pause or partition longer than that it turns false at once,
   * before etcd is even asked, and true again once a keep-alive or a new
   * lease is confirmed. False before the first registration and after close.
   * For a process whose work is valid only while registered (a presence
   * instance owning users).
   */
  holdsLease(): boolean;
  /** Deregisters what this registry registered, stops its watches, releases the connection. */
  close(): Promise<void>;
}

export interface Registration {
  /** The instance as last stored. */
  readonly instance: InstanceInfo;
  update(change: InstanceUpdate): Promise<void>;
  /** Deregisters: the instance disappears from lists and watches at once. Safe to call twice. */
  close(): Promise<void>;
}

export type InstanceUpdate = Partial<Pick<InstanceInfo, "load" | "capacity" | "draining">>;

export interface InstanceWatch {
  /** The live set, or the last known one while the backend is unreachable; sorted by service, then instance id. */
  current(): readonly InstanceInfo[];
  /** False while the watch has lost its backend and serves the last known set. */
  readonly connected: boolean;
  close(): Promise<void>;
}

/** Worker ids are 10 bits (see idgen): 0 to 1023. */
export const WORKER_ID_COUNT = 1024;

/**
 * A Snowflake worker id leased to this process, so no two running idgen
 * instances ever issue IDs with the same one.
 *
 * - `claim()` takes the lowest free id from 0 to 1023 with a create-if-absent
 *   transaction bound to this process's lease. It rejects with
 *   `WorkerIdsExhausted` when all 1,024 are held, and `RegistryUnavailable`
 *   when the backend cannot be reached (callers retry with backoff).
 * - **Fencing.** `current()` returns the id only while the lease is certainly
 *   still alive on the server: it turns undefined once `ttl - margin` has
 *   passed since the *sending* of the last keep-alive the server confirmed,
 *   measured on both the monotonic and the wall clock. The server cannot have
 *   expired the lease before `ttl` after it received that keep-alive, so the
 *   id is dropped before anybody else could claim it; the margin absorbs
 *   clock skew between hosts. Callers must read their clock first and call
 *   `current()` after, so every ID's timestamp lies inside the valid period.
 * - **Re-claim.** After a lapse the adapter confirms, when the backend
 *   answers again, that the id is still bound to its lease (then `current()`
 *   returns it again) or claims the lowest free id anew, possibly a different
 *   one. It never claims anything while the backend is unreachable.
 * - `close()` stops the keep-alives and frees the id at once (revoke).
 */
export interface WorkerIdLease {
  claim(): Promise<number>;
  /** The worker id, or undefined while fenced (or before claim, after close). Cheap and synchronous. */
  current(): number | undefined;
  /** Called with the new id (or undefined when fenced) whenever that changes. */
  onChange(listener: (workerId: number | undefined) => void): () => void;
  close(): Promise<void>;
}
