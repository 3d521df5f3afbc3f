import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { dependencyFailure } from "@parley/runtime";
import type { IdSource } from "../ports.js";
import { DemandMeter } from "./demand-meter.js";

/** The most ids one NextIds may ask for (the contract's limit), so the largest block. */
export const MAX_BLOCK = 4_096;
/** The smallest block: below it the call costs more than the ids are worth. */
export const MIN_BLOCK = 64;
/** Default bound on an id's age when it is used, ms. */
export const DEFAULT_MAX_AGE_MS = 1_000;
/** A block holds about this long's worth of ids at the recent rate. */
const AHEAD_MS = 500;
/** Calls per block when instances refuse it: the one asked, then one more (the next instance in turn). */
export const INSTANCE_TRIES = 2;

export interface IdgenIdSourceOptions {
  /** An id is never used more than this long after it was minted, ms (default 1,000). */
  maxAgeMs?: number;
  /** A monotonic clock in ms (default performance.now); tests pass a fake one. */
  now?: () => number;
}

interface Block {
  /**
   * A typed array, not the reply's bigint[]: a block waits in memory for up
   * to half a second, long enough for every one of its ids to reach the old
   * generation, where only a full collection frees them. Kept as one array of
   * 64-bit slots, each id becomes an object only when a send takes it.
   */
  ids: BigInt64Array;
  next: number;
  /** When the call that minted it was made: every id in it was minted at or after this. */
  requestedAt: number;
}

interface Waiter {
  resolve: (id: bigint) => void;
  reject: (err: unknown) => void;
}

/**
 * Ids from the idgen service, fetched ahead in blocks so that a send
 * normally takes its id from memory with no call: one NextIds per block
 * rather than one per round trip of sends. A block holds about half a
 * second's worth at the recent rate (at least MIN_BLOCK, at most
 * MAX_BLOCK); a new one is fetched in the background when the ids still
 * usable a quarter of the age bound from now run below a quarter second's
 * worth. Only one call is in flight at a time, so blocks arrive in the order
 * they were asked for and ids from one idgen worker keep increasing.
 *
 * The bound on age: an id is never used more than `maxAgeMs` (default 1 s)
 * after it was minted. Its age is counted from when the call that brought it
 * was made (it cannot have been minted earlier), ids older than the bound are
 * discarded unused, and a call slower than the bound is abandoned (its ids
 * could be too old), which fails the sends waiting on it. Snowflake ids carry
 * their time and give messages their order, so the consequence is stated
 * here and in docs/architecture.md: with several chat instances, the order of
 * message ids may differ from the order in which the messages were stored by
 * at most `maxAgeMs` (one instance may store a message whose id is up to that
 * much older than an id another instance already used). Within one chat
 * instance ids still increase in the order sends take them.
 *
 * A failing idgen: a call refused as UNAVAILABLE is made again on the next
 * instance (INSTANCE_TRIES calls in all); when those fail too, the sends
 * waiting for ids get the dependency error (UNAVAILABLE, "the id service is
 * unavailable; retry"), all of them from the one failed round; nothing is fetched ahead until a call succeeds again, and
 * the next call is made only when a send needs an id, so a dead idgen costs
 * one call per burst of sends, never a loop of its own.
 */
export class IdgenIdSource implements IdSource {
  readonly #client;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #demand: DemandMeter;
  readonly #blocks: Block[] = [];
  #waiting: Waiter[] = [];
  #fetching = false;
  #failing = false;

  constructor(transport: Transport, options: IdgenIdSourceOptions = {}) {
    this.#client = createClient(IdGenService, transport);
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    if (!(this.#maxAgeMs > 0)) throw new RangeError(`maxAgeMs must be positive, got ${this.#maxAgeMs}`);
    this.#now = options.now ?? (() => performance.now());
    this.#demand = new DemandMeter(AHEAD_MS, this.#now());
  }

  next(): Promise<bigint> {
    const now = this.#now();
    this.#demand.record(now);
    const id = this.#take(now);
    if (id === undefined) {
      return new Promise((resolve, reject) => {
        this.#waiting.push({ resolve, reject });
        void this.#fetch();
      });
    }
    if (!this.#failing && this.#runningLow(now)) void this.#fetch();
    return Promise.resolve(id);
  }

  /** The oldest usable id in memory, discarding aged and spent blocks on the way. */
  #take(now: number): bigint | undefined {
    while (this.#blocks.length > 0) {
      const block = this.#blocks[0]!;
      if (block.next < block.ids.length && !this.#aged(block, now)) return block.ids[block.next++]!;
      this.#blocks.shift();
    }
    return undefined;
  }

  /** Whether the ids still usable a quarter of the age bound from now fall short of a quarter second's demand. */
  #runningLow(now: number): boolean {
    const at = now + this.#maxAgeMs / 4;
    let usable = 0;
    for (const block of this.#blocks) if (!this.#aged(block, at)) usable += block.ids.length - block.next;
    return usable < Math.max(MIN_BLOCK / 2, this.#demand.perWindow(now) / 2);
  }

  #aged(block: Block, at: number): boolean {
    return at - block.requestedAt > this.#maxAgeMs;
  }

  /** Fetches blocks until no send waits; one caller at a time. */
  async #fetch(): Promise<void> {
    if (this.#fetching) return;
    this.#fetching = true;
    try {
      do {
        const requestedAt = this.#now();
        const count = Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, this.#waiting.length + this.#demand.perWindow(requestedAt)));
        let ids: bigint[];
        try {
          ids = await this.#nextIds(count);
        } catch (err) {
          this.#failing = true;
          const failure = dependencyFailure("the id service", err);
          for (const waiter of this.#waiting.splice(0)) waiter.reject(failure);
          return;
        }
        this.#failing = false;
        this.#add({ ids: BigInt64Array.from(ids), next: 0, requestedAt });
      } while (this.#waiting.length > 0);
    } finally {
      this.#fetching = false;
    }
  }

  /**
   * One block from whichever idgen instance answers. A call refused as
   * UNAVAILABLE (an instance that died and is still in the registry until its
   * lease ends), or unanswered within the age bound (a stopped or hung
   * instance; the ids it may still mint are never used), is made again at
   * once, and the mesh's transport takes the next instance; at most
   * INSTANCE_TRIES calls, so a dead idgen everywhere still costs a bounded
   * number of calls per burst of sends.
   */
  async #nextIds(count: number): Promise<bigint[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.#client.nextIds({ count }, { timeoutMs: this.#maxAgeMs })).ids;
      } catch (err) {
        const { code } = ConnectError.from(err);
        if (attempt >= INSTANCE_TRIES || (code !== Code.Unavailable && code !== Code.DeadlineExceeded)) throw err;
      }
    }
  }

  /** Serves the waiting sends first (they asked before anyone still to come), then keeps the rest. */
  #add(block: Block): void {
    if (this.#aged(block, this.#now())) return; // too old already: the loop asks again for whoever waits
    const served = this.#waiting.splice(0, block.ids.length);
    for (const [i, waiter] of served.entries()) waiter.resolve(block.ids[i]!);
    block.next = served.length;
    if (block.next < block.ids.length) this.#blocks.push(block);
  }
}
