import { EtcdLeaseInvalidError, type Lease } from "etcd3";
import { keepAliveIntervalMs, LeaseClock, type Clocks, systemClocks } from "../lease-clock.js";
import type { EtcdConnection } from "./etcd-client.js";

export interface KeptLeaseHooks {
  /**
   * A keep-alive was confirmed. `continuous` is false when the lease had
   * lapsed locally before it was sent; runs synchronously right after the
   * clock moved, so a hook can mark its holdings unverified before any other
   * code observes the renewed lease.
   */
  onRenewed?(continuous: boolean): void;
  /** The server says the lease is gone (expired, revoked, or etcd lost its data). Never called after close. */
  onLost?(): void;
  /** After every keep-alive attempt, successful or not. */
  onAttempt?(error: unknown): void;
}

/**
 * An etcd lease with its own keep-alive loop. etcd3's automatic keep-alive
 * records when a reply *arrived*; fencing needs when the confirmed request
 * was *sent* (see LeaseClock), so this sends one keep-alive at a time with
 * keepaliveOnce() and stamps it first.
 *
 * Keep-alives go on through outages until etcd either confirms the lease
 * (it survived: etcd refreshes every lease when it restarts) or says it is
 * gone. Local time alone never declares the lease lost, only fenced.
 */
export class KeptLease {
  readonly clock: LeaseClock;
  readonly intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lost = false;

  private constructor(
    private readonly conn: EtcdConnection,
    private readonly lease: Lease,
    readonly id: string,
    clock: LeaseClock,
    private readonly hooks: KeptLeaseHooks,
  ) {
    this.clock = clock;
    this.intervalMs = keepAliveIntervalMs(conn.settings.leaseTtlSeconds);
    // etcd3 emits "lost" when a put bound to this lease finds it gone.
    lease.on("lost", () => this.#markLost());
    this.#schedule();
  }

  /** Grants a lease of the configured TTL; rejects with RegistryUnavailable when etcd does not answer. */
  static async grant(conn: EtcdConnection, hooks: KeptLeaseHooks = {}, clocks: Clocks = systemClocks): Promise<KeptLease> {
    const clock = new LeaseClock(conn.settings.leaseTtlSeconds, clocks);
    const sent = clock.stamp();
    const lease = conn.ns.lease(conn.settings.leaseTtlSeconds, {
      autoKeepAlive: false,
      deadline: Date.now() + conn.settings.timeoutMs,
    });
    let id: string;
    try {
      id = await lease.grant();
    } catch (err) {
      lease.release();
      throw conn.unavailable("lease", "granting a lease", err);
    }
    clock.confirm(sent);
    return new KeptLease(conn, lease, id, clock, hooks);
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Stops the keep-alives and deletes the lease with every key bound to it. Best effort when etcd is down. */
  async revoke(): Promise<void> {
    this.#stop();
    this.clock.invalidate();
    await this.lease.revoke({ deadline: Date.now() + this.conn.settings.timeoutMs }).catch(() => undefined);
  }

  /** Stops the keep-alives and lets the lease expire one TTL later, as if the process had died. */
  release(): void {
    this.#stop();
    this.lease.release();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#keepAlive(), this.intervalMs);
  }

  async #keepAlive(): Promise<void> {
    const sent = this.clock.stamp();
    let error: unknown;
    try {
      // The deadline keeps a hung etcd from piling up open streams.
      const deadline = Date.now() + Math.min(this.conn.settings.timeoutMs, this.intervalMs * 2);
      await this.lease.keepaliveOnce({ deadline });
      if (this.#stopped) return;
      const continuous = this.clock.confirm(sent);
      this.hooks.onRenewed?.(continuous);
    } catch (err) {
      error = err;
      this.conn.failed("lease");
      if (err instanceof EtcdLeaseInvalidError) this.#markLost();
    }
    if (this.#stopped) return;
    this.hooks.onAttempt?.(error);
    this.#schedule();
  }

  #markLost(): void {
    if (this.#lost || this.#stopped) return;
    this.#lost = true;
    this.#stop();
    this.clock.invalidate();
    this.hooks.onLost?.();
  }

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
