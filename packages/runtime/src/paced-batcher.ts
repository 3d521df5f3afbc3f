/** The items that leave together, and how many of them still wait for their answers. */
export interface PacedBatch {
  readonly size: number;
}

interface OpenBatch<T> extends PacedBatch {
  items: T[];
  size: number;
  unanswered: number;
  sent: boolean;
}

/**
 * A TickBatcher that also paces by answers: at most `maxUnanswered` batches
 * are out without all their answers; what is added meanwhile is held and
 * leaves as one batch when one of them is fully answered, or once the
 * oldest held item has waited `holdMs`. A lone item still leaves at the end
 * of its turn. Under load, each batch then carries what arrived during the
 * previous one's round trip (Nagle's rule with an upper bound on the
 * delay): the far side wakes once per batch instead of once per item, and
 * the cost of its wake-ups and of every hop behind it (its store, its
 * lookups, its replies) is shared. `add` tells the batch an item joined;
 * the caller reports each item's answer with `answered(batch)`, also for an
 * item that timed out or failed, so a lost answer cannot hold the rest.
 *
 * `lingerMs` (0 by default) holds a batch that long from its first item,
 * even with nothing out (Kafka's linger.ms), when the batch before it left
 * less than a linger ago: under continuous load, where each item would
 * otherwise cross alone, it buys fewer wake-ups everywhere behind it with
 * that much latency (docs/performance.md, "A linger for the gateway's
 * commands": 3 ms took the distributed mode's CPU per message at 1,000
 * msg/s from 589 to 363 µs, its p50 from 2.3 to 4.3 ms). The first item
 * after a pause longer than the linger leaves at the end of its turn: a
 * quiet server has nothing to share a wake-up with, and would only wait.
 */
export class PacedBatcher<T> {
  private open: OpenBatch<T> | undefined;
  private openedAt = 0;
  /** Whether the open batch lingers: it opened within a linger of the last batch leaving. */
  private openLingers = false;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private unansweredBatches = 0;
  private scheduled = false;
  private holdTimer: NodeJS.Timeout | undefined;
  private holdDue = 0;

  constructor(
    private readonly flush: (items: T[]) => void,
    private readonly maxUnanswered: number,
    private readonly holdMs: number,
    private readonly lingerMs = 0,
  ) {
    if (!(maxUnanswered >= 1)) throw new RangeError(`at least one batch must be allowed out, not ${maxUnanswered}`);
    if (!(holdMs >= 0)) throw new RangeError(`the hold must be 0 ms or more, not ${holdMs}`);
    if (!(lingerMs >= 0)) throw new RangeError(`the linger must be 0 ms or more, not ${lingerMs}`);
  }

  add(item: T): PacedBatch {
    if (this.open === undefined) {
      this.open = { items: [], size: 0, unanswered: 0, sent: false };
      this.openedAt = performance.now();
      this.openLingers = this.openedAt - this.lastSentAt < this.lingerMs;
    }
    const batch = this.open;
    batch.items.push(item);
    batch.size++;
    batch.unanswered++;
    this.schedule();
    return batch;
  }

  /** One item of `batch` has its answer (or will never have one). */
  answered(batch: PacedBatch): void {
    const open = batch as OpenBatch<T>;
    open.unanswered--;
    if (open.sent && open.unanswered === 0) {
      this.unansweredBatches--;
      this.schedule();
    }
  }

  /** Drops what is held (its callers are failed by the owner) and forgets what is out. */
  reset(): void {
    this.open = undefined;
    this.unansweredBatches = 0;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }

  private schedule(): void {
    if (this.scheduled || this.open === undefined) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.release();
    });
  }

  private release(): void {
    const batch = this.open;
    if (batch === undefined) return;
    const now = performance.now();
    const waited = now - this.openedAt;
    const paced = this.unansweredBatches >= this.maxUnanswered && waited < this.holdMs;
    const linger = this.openLingers ? this.lingerMs : 0;
    if (paced || waited < linger) {
      // Paced, it leaves at an answer (release runs again) or at the hold; lingering, not before the linger.
      const due = this.openedAt + (paced ? Math.max(this.holdMs, linger) : linger);
      // An answer can bring the batch's time forward (from the hold to the linger), never back.
      if (this.holdTimer === undefined || due < this.holdDue) {
        clearTimeout(this.holdTimer);
        this.holdDue = due;
        this.holdTimer = setTimeout(() => {
          this.holdTimer = undefined;
          this.release();
        }, due - now);
      }
      return;
    }
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.open = undefined;
    this.lastSentAt = now;
    batch.sent = true;
    if (batch.unanswered > 0) this.unansweredBatches++;
    const items = batch.items;
    batch.items = [];
    this.flush(items);
  }
}
