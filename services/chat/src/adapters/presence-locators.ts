import { Owners, type InstanceSource } from "@parley/mesh";
import { DependencyUnavailable } from "@parley/runtime";
import type { DeviceLocation, DeviceLocator } from "../ports.js";
import { PresenceDeviceLocator, type PresenceLocatorOptions } from "./presence-locator.js";

/** The presence instances, as the registry shows them now. */

/** How old the instance list may be when a lookup is made: the period the gateways and presence re-read it too. */
const REFRESH_MS = 500;

/**
 * Device locations when users are shared among several presence instances:
 * one PresenceDeviceLocator (one LocateDevicesStream) per instance, and each
 * lookup's users split by owner (the rendezvous choice over the registered,
 * non-draining instances, as the gateways and presence make it), each part
 * asked of its owner. A lookup fails (DependencyUnavailable) when any owner
 * it needs cannot answer; delivery looks up one user at a time, so an
 * instance whose stream is down fails only its own users' lookups, whose
 * delivery then falls back to every gateway. Streams to instances that left
 * the registry are closed.
 */
export class PresenceLocators implements DeviceLocator {
  private readonly locators = new Map<string, PresenceDeviceLocator>();
  private owners = new Owners([]);
  private refreshedAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly instances: InstanceSource,
    private readonly options: PresenceLocatorOptions,
  ) {}

  async locate(userIds: readonly bigint[]): Promise<Map<bigint, DeviceLocation[]>> {
    if (this.closed) throw new DependencyUnavailable("the presence service", { cause: new Error("chat is shutting down") });
    if (performance.now() - this.refreshedAt > REFRESH_MS) this.refresh();
    const parts = await Promise.all(
      [...this.owners.split(userIds)].map(([owner, group]) => {
        const locator = owner === undefined ? undefined : this.locators.get(owner);
        if (locator === undefined)
          return Promise.reject(new DependencyUnavailable("the presence service", { cause: new Error("no presence instance is registered") }));
        return locator.locate(group);
      }),
    );
    return new Map(parts.flatMap((part) => [...part]));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.locators.values()].map((locator) => locator.close()));
    this.locators.clear();
  }

  private refresh(): void {
    this.refreshedAt = performance.now();
    const now = this.instances.current();
    for (const [address, locator] of this.locators) {
      if (now.some((instance) => instance.address === address)) continue;
      this.locators.delete(address);
      void locator.close();
    }
    for (const { address } of now) {
      if (!this.locators.has(address)) this.locators.set(address, new PresenceDeviceLocator(this.instances.transport(address), this.options));
    }
    this.owners = new Owners(now);
  }
}
