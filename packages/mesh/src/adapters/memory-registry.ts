import { randomBytes } from "node:crypto";
import { DuplicateInstance } from "../errors.js";
import { byServiceAndId, validateInstance, type InstanceInfo } from "../instance.js";
import type { InstanceUpdate, InstanceWatch, Registration, Registry } from "../ports.js";

type Listener = () => void;

/**
 * The entries shared by every MemoryRegistry of one process. Single process
 * only: nothing leaves the process, so this is the embedded mode's registry
 * (all services in one process) and a test double, never a way for separate
 * processes to find each other. There are no leases: an entry lives until
 * its registration closes, and dies with the process like everything else.
 */
export class MemoryRegistryStore {
  readonly entries = new Map<string, { instance: InstanceInfo; owner: string }>();
  readonly listeners = new Set<Listener>();

  changed(): void {
    // Asynchronous like a real watch, so no caller depends on synchronous delivery.
    queueMicrotask(() => {
      for (const listener of this.listeners) listener();
    });
  }

  list(service: string): InstanceInfo[] {
    return [...this.entries.values()]
      .map((e) => e.instance)
      .filter((i) => service === "" || i.service === service)
      .sort(byServiceAndId);
  }
}

/** A registry client over a MemoryRegistryStore; see the Registry port. */
export class MemoryRegistry implements Registry {
  readonly #owner = randomBytes(8).toString("hex");
  readonly #registrations = new Set<Registration>();
  readonly #watches = new Set<InstanceWatch>();

  constructor(readonly store = new MemoryRegistryStore()) {}

  async register(info: InstanceInfo): Promise<Registration> {
    let instance = validateInstance(info);
    const key = `${instance.service}/${instance.instanceId}`;
    const existing = this.store.entries.get(key);
    if (existing && existing.owner !== this.#owner) throw new DuplicateInstance(instance.service, instance.instanceId);
    this.store.entries.set(key, { instance, owner: this.#owner });
    this.store.changed();
    let closed = false;
    const registration: Registration = {
      get instance() {
        return instance;
      },
      update: async (change: InstanceUpdate) => {
        if (closed) return;
        instance = validateInstance({ ...instance, ...change });
        this.store.entries.set(key, { instance, owner: this.#owner });
        this.store.changed();
      },
      close: async () => {
        if (closed) return;
        closed = true;
        this.#registrations.delete(registration);
        if (this.store.entries.get(key)?.owner === this.#owner) this.store.entries.delete(key);
        this.store.changed();
      },
    };
    this.#registrations.add(registration);
    return registration;
  }

  async list(service = ""): Promise<InstanceInfo[]> {
    return this.store.list(service);
  }

  async watch(service: string, onChange?: (instances: readonly InstanceInfo[]) => void): Promise<InstanceWatch> {
    let current: readonly InstanceInfo[] = Object.freeze(this.store.list(service));
    const listener = () => {
      const next = Object.freeze(this.store.list(service));
      if (sameInstances(current, next)) return;
      current = next;
      onChange?.(current);
    };
    this.store.listeners.add(listener);
    onChange?.(current);
    const watch: InstanceWatch = {
      current: () => current,
      connected: true,
      close: async () => {
        this.store.listeners.delete(listener);
        this.#watches.delete(watch);
      },
    };
    this.#watches.add(watch);
    return watch;
  }

  /** In memory nothing expires: true while something is registered here. */
  holdsLease(): boolean {
    return this.#registrations.size > 0;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#watches].map((w) => w.close()));
    await Promise.all([...this.#registrations].map((r) => r.close()));
  }
}

function sameInstances(a: readonly InstanceInfo[], b: readonly InstanceInfo[]): boolean {
  return a.length === b.length && a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]));
}
