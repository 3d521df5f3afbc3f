import { Owners, type ServiceInstance } from "@parley/mesh";
import type { Logger } from "@parley/runtime";
import type { UserOwnership } from "../ports.js";

/** How often the registry view is read again: the same period as the gateways' and chat's, so views agree within about a second. */
export const OWNERSHIP_REFRESH_MS = 500;
/**
 * How long a newly gained user stays unsettled: the gateways re-read the
 * registry every 500 ms and then re-send their sessions, so 2 s covers both
 * with room for a loaded machine.
 */
export const SETTLE_MS = 2_000;

/**
 * Ownership from this process's view of the registry (the presence
 * instances registered and not draining), re-read every 500 ms, fenced by
 * this process's lease. This instance is `self` once `start` gives its
 * registered address; before that it owns nobody.
 */
export class RegistryOwnership implements UserOwnership {
  private owners: Owners;
  /** Snapshots replaced under SETTLE_MS ago, with when they were replaced. */
  private recent: { owners: Owners; replacedAt: number }[] = [];
  private wasServing = false;
  private self: string | undefined;
  private readonly listeners: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly instances: () => readonly ServiceInstance[],
    private readonly holdsLease: () => boolean,
    private readonly logger: Logger,
    /** Milliseconds on a monotonic clock (injected in tests). */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.owners = new Owners(instances());
  }

  ownerOf(userId: bigint): string | undefined {
    return this.owners.of(userId);
  }

  owns(userId: bigint): boolean {
    return this.self !== undefined && this.owners.of(userId) === this.self;
  }

  serving(): boolean {
    return this.self !== undefined && this.holdsLease();
  }

  settled(userId: bigint): boolean {
    if (!this.owns(userId) || !this.serving()) return false;
    const since = this.now() - SETTLE_MS;
    return this.recent.every((snapshot) => snapshot.replacedAt < since || snapshot.owners.of(userId) === this.self);
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

  /** Reads the registry and the lease now; tells the listeners when either changed what this instance owns. */
  refresh(): void {
    const now = this.now();
    this.recent = this.recent.filter((snapshot) => snapshot.replacedAt >= now - SETTLE_MS);
    const serving = this.serving();
    const next = new Owners(this.instances());
    const moved = !next.sameAs(this.owners);
    if (!moved && serving === this.wasServing) return;
    if (moved) {
      this.recent.push({ owners: this.owners, replacedAt: now });
      this.owners = next;
    }
    if (serving !== this.wasServing && this.self !== undefined) {
      this.logger[serving ? "info" : "warn"](
        { self: this.self },
        serving ? "registration confirmed: serving users" : "registration not confirmed (paused or cut off?): publishing nothing",
      );
    }
    this.wasServing = serving;
    if (moved)
      this.logger.info(
        { instances: next.addresses, self: this.self, owner: next.addresses.includes(this.self ?? "") },
        "presence instances changed; users re-shared",
      );
    for (const listener of this.listeners) listener();
  }
}
