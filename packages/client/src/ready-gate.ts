import { deadlineExceeded } from "./errors.js";

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Where callers wait for a usable connection: open while one is welcomed,
 * closed while reconnecting (callers wait, up to their timeout), failed once
 * the client stopped or closed (callers get that error at once).
 */
export class ReadyGate<T> {
  private value: T | undefined;
  private error: unknown;
  private readonly waiters = new Set<Waiter<T>>();

  /** The error the gate failed with, if it did. */
  get failure(): unknown {
    return this.error;
  }

  /** Lets everyone through with this value. */
  open(value: T): void {
    this.value = value;
    this.error = undefined;
    for (const waiter of this.take()) waiter.resolve(value);
  }

  /** Makes new callers wait again. */
  close(): void {
    this.value = undefined;
  }

  /** Rejects every waiting and future caller with `err`, until reset(). */
  fail(err: unknown): void {
    this.value = undefined;
    this.error = err;
    for (const waiter of this.take()) waiter.reject(err);
  }

  /** Forgets a failure, for a client that connects again after it stopped. */
  reset(): void {
    this.value = undefined;
    this.error = undefined;
  }

  /** The value when open; otherwise waits for it, at most timeoutMs (none: no limit). */
  wait(timeoutMs?: number, what = "the request"): Promise<T> {
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.value !== undefined) return Promise.resolve(this.value);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters.delete(waiter);
          reject(deadlineExceeded(`${what} (waiting for a connection)`, timeoutMs));
        }, timeoutMs);
      }
      this.waiters.add(waiter);
    });
  }

  private take(): Waiter<T>[] {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) clearTimeout(waiter.timer);
    return waiters;
  }
}
