import { Owners, type ServiceInstance } from "@parley/mesh";
import type { Logger } from "@parley/runtime";
import type { UserOwnership } from "../ports.js";

/** How often the registry view is read again: the same period as the gateways' and chat's, so views agree within about a second. */
export const OWNERSHIP_REFRESH_MS = 500;

/**
 * Ownership from this process's view of the registry (the presence
 * instances registered and not draining), re-read every 500 ms. This
 * instance is `self` once `start` gives its registered address; before that
 * it owns nobody.
 */
export class RegistryOwnership implements UserOwnership {
  private owners: Owners;
  private self: string | undefined;
  private readonly listeners: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly instances: () => readonly ServiceInstance[],
    private readonly logger: Logger,
  ) {
    this.owners = new Owners(instances());
  }

  ownerOf(userId: bigint): string | undefined {
    return this.owners.of(userId);
  }

  owns(userId: bigint): boolean {
    return this.self !== undefined && this.owners.of(userId) === this.self;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** This instance's address as registered; starts following the registry. */
  start(self: string): void {
    this.self = self;
    this.refresh();
    this.timer = setInterval(() => this.refresh(), OWNERSHIP_REFRESH_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Reads the registry now; tells the listeners when the owning set changed. */
  refresh(): void {
    const next = new Owners(this.instances());
    if (next.sameAs(this.owners)) return;
    this.owners = next;
    this.logger.info(
      { instances: next.addresses, self: this.self, owner: next.addresses.includes(this.self ?? "") },
      "presence instances changed; users re-shared",
    );
    for (const listener of this.listeners) listener();
  }
}
