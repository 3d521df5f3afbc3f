import { randomBytes } from "node:crypto";
import { backoffDelayMs, type Logger } from "@parley/runtime";
import { DuplicateInstance } from "../errors.js";
import { byServiceAndId, validateInstance, type InstanceInfo } from "../instance.js";
import type { InstanceUpdate, InstanceWatch, Registration, Registry } from "../ports.js";
import type { EtcdConnection } from "./etcd-client.js";
import { KeptLease } from "./etcd-lease.js";
import { decodeInstance, encodeInstance, instanceKey, instancePrefix, ownerOf } from "./etcd-records.js";
import { EtcdInstanceWatch } from "./etcd-watch.js";

/**
 * The registry on etcd (see the Registry port for its guarantees). All
 * registrations of one registry share one lease of DISCOVERY_LEASE_TTL_SECONDS:
 * one process, one lease, one keep-alive stream. When etcd says the lease is
 * gone, a new one is granted and every registration written again, retrying
 * with backoff until etcd answers.
 * The registry does not own the connection: close it after the registry.
 */
export class EtcdRegistry implements Registry {
  /** Tells this registry's own entries from another live process's with the same instance id. */
  readonly #owner = randomBytes(8).toString("hex");
  readonly #registrations = new Set<EtcdRegistration>();
  readonly #watches = new Set<InstanceWatch>();
  #lease: Promise<KeptLease> | undefined;
  /** The lease once granted, for the synchronous holdsLease(). */
  #kept: KeptLease | undefined;
  #closed = false;

  constructor(
    private readonly conn: EtcdConnection,
    private readonly logger?: Logger,
  ) {}

  async register(info: InstanceInfo): Promise<Registration> {
    const instance = validateInstance(info);
    const lease = await this.#currentLease();
    const registration = new EtcdRegistration(this, instance);
    await this.store(registration.instance, lease, true);
    this.#registrations.add(registration);
    return registration;
  }

  async list(service = ""): Promise<InstanceInfo[]> {
    try {
      const res = await this.conn.ns.getAll().prefix(instancePrefix(service)).exec();
      return res.kvs
        .map(decodeInstance)
        .filter((i) => i !== undefined)
        .sort(byServiceAndId);
    } catch (err) {
      throw this.conn.unavailable("list", `listing ${service || "all"} instances`, err);
    }
  }

  async watch(service: string, onChange?: (instances: readonly InstanceInfo[]) => void): Promise<InstanceWatch> {
    const watch = await EtcdInstanceWatch.open(this.conn, service, onChange, this.logger);
    this.#watches.add(watch);
    return watch;
  }

  holdsLease(): boolean {
    const kept = this.#kept;
    return !this.#closed && this.#registrations.size > 0 && kept !== undefined && !kept.lost && kept.clock.isValid();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#watches].map((w) => w.close()));
    // Revoking the lease deletes every key bound to it in one step.
    const lease = await this.#lease?.catch(() => undefined);
    await lease?.revoke();
    this.#registrations.clear();
  }

  /**
   * Writes `instance` bound to `lease`. With `create`, refuses when another
   * owner's live entry holds the key; its own stale entry is overwritten
   * (compare-and-swap on the revision it read).
   */
  async store(instance: InstanceInfo, lease: KeptLease, create: boolean): Promise<void> {
    const key = instanceKey(instance);
    const value = encodeInstance(instance, this.#owner);
    const { ns } = this.conn;
    try {
      if (!create) {
        await ns.put(key).value(value).lease(lease.id).exec();
        return;
      }
      const res = await ns.if(key, "Create", "==", 0).then(ns.put(key).value(value).lease(lease.id)).else(ns.get(key)).commit();
      if (res.succeeded) return;
      const existing = res.responses[0]?.response_range.kvs[0];
      if (existing === undefined || ownerOf(existing.value) !== this.#owner) throw new DuplicateInstance(instance.service, instance.instanceId);
      const swapped = await ns.if(key, "Mod", "==", existing.mod_revision).then(ns.put(key).value(value).lease(lease.id)).commit();
      if (!swapped.succeeded) throw new DuplicateInstance(instance.service, instance.instanceId);
    } catch (err) {
      if (err instanceof DuplicateInstance) throw err;
      throw this.conn.unavailable("register", `registering ${key}`, err);
    }
  }

  async deregister(registration: EtcdRegistration): Promise<void> {
    if (!this.#registrations.delete(registration)) return;
    const key = instanceKey(registration.instance);
    const lease = await this.#lease?.catch(() => undefined);
    if (lease === undefined) return;
    // Only our own entry: never delete another process's registration.
    await this.conn.ns
      .if(key, "Lease", "==", lease.id)
      .then(this.conn.ns.delete().key(key))
      .commit()
      .catch((err: unknown) => {
        throw this.conn.unavailable("register", `deregistering ${key}`, err);
      });
  }

  /** The lease registrations are bound to, granted on first use. */
  async #currentLease(): Promise<KeptLease> {
    this.#lease ??= KeptLease.grant(this.conn, { onLost: () => this.#recover() });
    try {
      this.#kept = await this.#lease;
      return this.#kept;
    } catch (err) {
      this.#lease = undefined; // try again on the next call
      throw err;
    }
  }

  /** etcd lost the lease: grant a new one and write every registration again. */
  #recover(): void {
    if (this.#closed) return;
    this.logger?.warn({ endpoints: this.conn.endpoints, registrations: this.#registrations.size }, "registry lease lost; registering again");
    this.#lease = undefined;
    void (async () => {
      for (let attempt = 0; !this.#closed; attempt++) {
        try {
          const lease = await this.#currentLease();
          for (const registration of this.#registrations) await this.store(registration.instance, lease, true);
          this.logger?.info({ registrations: this.#registrations.size }, "registered again after losing the lease");
          return;
        } catch (err) {
          const delayMs = backoffDelayMs(attempt, { initialMs: 200, maxMs: 5000 });
          this.logger?.warn({ err: String(err), delayMs }, "registering again failed; retrying");
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    })();
  }

  /** For updates: the lease as it is now (a recovery may be replacing it). */
  async leaseForUpdate(): Promise<KeptLease> {
    return this.#currentLease();
  }
}

class EtcdRegistration implements Registration {
  #instance: InstanceInfo;
  #closed = false;

  constructor(
    private readonly registry: EtcdRegistry,
    instance: InstanceInfo,
  ) {
    this.#instance = instance;
  }

  get instance(): InstanceInfo {
    return this.#instance;
  }

  async update(change: InstanceUpdate): Promise<void> {
    if (this.#closed) return;
    // Kept even if the write fails, so a recovery writes the latest load.
    this.#instance = validateInstance({ ...this.#instance, ...change });
    await this.registry.store(this.#instance, await this.registry.leaseForUpdate(), false);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.registry.deregister(this);
  }
}
