/**
 * Fencing arithmetic for leases, kept apart from etcd so it can be tested
 * with fake clocks.
 *
 * etcd expires a lease `ttl` after the leader *received* the last keep-alive.
 * The client cannot see that moment, but it came after the client *sent* the
 * keep-alive, so `sent + ttl` is a time before which the lease is certainly
 * alive. The client treats the lease as valid only until
 * `sent + ttl - margin`: the margin absorbs clock skew between the hosts
 * whose IDs must not collide, and clock rate differences.
 *
 * Elapsed time is measured on two clocks and the larger wins: the monotonic
 * clock ignores wall-clock steps but stops while the host is suspended; the
 * wall clock keeps counting through a suspend. Either one passing the window
 * is enough to fence.
 */

export interface Clocks {
  /** Milliseconds on a clock that never steps (performance.now()). */
  monotonic(): number;
  /** Milliseconds since 1970 (Date.now()). */
  wall(): number;
}

export const systemClocks: Clocks = {
  monotonic: () => performance.now(),
  wall: () => Date.now(),
};

/** The moment a grant or keep-alive was sent, on both clocks. */
export interface Stamp {
  readonly monotonic: number;
  readonly wall: number;
}

/**
 * max(1 s, ttl / 5): with the default TTL of 10 s that is 2 s, far above the
 * clock skew NTP keeps between hosts, yet it leaves 8 s of validity per
 * confirmed keep-alive.
 */
export function fencingMarginMs(ttlSeconds: number): number {
  return Math.max(1000, (ttlSeconds * 1000) / 5);
}

/**
 * A third of the validity window, so two keep-alives in a row may be lost or
 * slow before the lease is fenced (the Go client uses ttl / 3; this is a
 * little shorter because the window is shorter than the TTL).
 */
export function keepAliveIntervalMs(ttlSeconds: number): number {
  return (ttlSeconds * 1000 - fencingMarginMs(ttlSeconds)) / 3;
}

export class LeaseClock {
  readonly windowMs: number;
  #confirmed: Stamp | undefined;

  constructor(
    ttlSeconds: number,
    private readonly clocks: Clocks = systemClocks,
  ) {
    if (!(ttlSeconds >= 2)) throw new RangeError(`a fenced lease needs a TTL of at least 2 s, got ${ttlSeconds}`);
    this.windowMs = ttlSeconds * 1000 - fencingMarginMs(ttlSeconds);
  }

  /** Take this just before sending a grant or keep-alive. */
  stamp(): Stamp {
    return { monotonic: this.clocks.monotonic(), wall: this.clocks.wall() };
  }

  /**
   * The server confirmed the lease alive for a request sent at `sent`.
   * Returns false when the lease had lapsed (locally) before that request
   * was sent: the caller must then re-check what it holds before trusting
   * the lease again.
   */
  confirm(sent: Stamp): boolean {
    const continuous = this.#validAt(sent);
    if (this.#confirmed === undefined || sent.monotonic > this.#confirmed.monotonic) this.#confirmed = sent;
    return continuous;
  }

  /** Forget every confirmation: the lease is gone or must be re-checked. */
  invalidate(): void {
    this.#confirmed = undefined;
  }

  isValid(): boolean {
    return this.#validAt(this.stamp());
  }

  /** Milliseconds of validity left (0 when fenced), for logs. */
  remainingMs(): number {
    const c = this.#confirmed;
    if (c === undefined) return 0;
    const elapsed = Math.max(this.clocks.monotonic() - c.monotonic, this.clocks.wall() - c.wall);
    return Math.max(0, this.windowMs - elapsed);
  }

  #validAt(at: Stamp): boolean {
    const c = this.#confirmed;
    if (c === undefined) return false;
    const elapsed = Math.max(at.monotonic - c.monotonic, at.wall - c.wall);
    return elapsed < this.windowMs;
  }
}
