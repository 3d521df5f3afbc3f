/**
 * How many things were asked for in about the last `windowMs`: the count of
 * the window before the current one, or of the current one when that is
 * already higher (demand rising). Two counters rather than a timestamp per
 * request, so recording costs nothing on the hot path; the answer is rough,
 * which is all a block size needs.
 */
export class DemandMeter {
  #current = 0;
  #previous = 0;
  #windowStart: number;

  constructor(
    private readonly windowMs: number,
    now: number,
  ) {
    this.#windowStart = now;
  }

  record(now: number, count = 1): void {
    this.#roll(now);
    this.#current += count;
  }

  /** Roughly how many were asked for in one window, recently. */
  perWindow(now: number): number {
    this.#roll(now);
    return Math.max(this.#previous, this.#current);
  }

  #roll(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed < this.windowMs) return;
    // A window that passed with nothing recorded after it leaves nothing recent.
    this.#previous = elapsed < 2 * this.windowMs ? this.#current : 0;
    this.#current = 0;
    this.#windowStart = elapsed < 2 * this.windowMs ? this.#windowStart + this.windowMs : now;
  }
}
