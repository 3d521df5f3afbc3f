/**
 * An unbounded async queue: producers push, one consumer iterates. Used to
 * turn callbacks into the async iterables that Connect streams consume and
 * produce. Unbounded on purpose: callers bound what they push (batches per
 * tick, per-connection buffers).
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private rejecter: ((err: unknown) => void) | undefined;
  private closed = false;
  private failure: { err: unknown } | undefined;

  push(item: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const resolve = this.waiter;
      this.waiter = this.rejecter = undefined;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /** Ends the iteration after the items already queued. */
  close(): void {
    this.closed = true;
    if (this.waiter && this.items.length === 0) {
      const resolve = this.waiter;
      this.waiter = this.rejecter = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  /** Ends the iteration with an error after the items already queued. */
  fail(err: unknown): void {
    this.failure = { err };
    this.closed = true;
    if (this.rejecter && this.items.length === 0) {
      const reject = this.rejecter;
      this.waiter = this.rejecter = undefined;
      reject(err);
    }
  }

  get size(): number {
    return this.items.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.failure) return Promise.reject(this.failure.err);
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiter = resolve;
          this.rejecter = reject;
        });
      },
      return: () => {
        this.closed = true;
        this.items.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      // Connect's stream plumbing propagates a failure into the source this way.
      throw: (err: unknown) => {
        this.closed = true;
        this.items.length = 0;
        return Promise.reject(err);
      },
    };
  }
}

/**
 * Collects items and hands them to `flush` once per turn of the event loop,
 * so many small messages written in one turn leave as one stream message.
 */
export class TickBatcher<T> {
  private pending: T[] = [];
  private scheduled = false;

  constructor(private readonly flush: (items: T[]) => void) {}

  add(item: T): void {
    this.pending.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const items = this.pending;
      this.pending = [];
      if (items.length > 0) this.flush(items);
    });
  }
}
