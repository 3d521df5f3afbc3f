import { setTimeout as delay } from "node:timers/promises";
import { ClockMovedBackwards, InvalidCount, InvalidSequence, InvalidWorkerId, NotAnId, TimeOutOfRange, WorkerIdUnavailable } from "../errors.js";
import type { Clock, WorkerIdSource } from "../ports.js";

/**
 * Snowflake IDs (see proto/parley/idgen/v1/idgen.proto), most significant bit
 * first: 1 bit always 0, 41 bits of milliseconds since PARLEY_EPOCH_MS, 10
 * bits of worker id, 12 bits of sequence within the millisecond.
 */
export const PARLEY_EPOCH_MS = Date.UTC(2025, 0, 1);
export const TIMESTAMP_BITS = 41;
export const WORKER_ID_BITS = 10;
export const SEQUENCE_BITS = 12;

export const MAX_TIMESTAMP = 2 ** TIMESTAMP_BITS - 1; // ms after the epoch: reached in 2094
export const MAX_WORKER_ID = 2 ** WORKER_ID_BITS - 1; // 1023
export const MAX_SEQUENCE = 2 ** SEQUENCE_BITS - 1; // 4095
/** Most IDs one NextIds call may ask for, as the contract says. */
export const MAX_BATCH = 4096;

const MAX_ID = (1n << 63n) - 1n;
const WORKER_SHIFT = BigInt(SEQUENCE_BITS);
const TIMESTAMP_SHIFT = BigInt(WORKER_ID_BITS + SEQUENCE_BITS);

export interface IdParts {
  /** The millisecond the ID was made in, since 1970 (not since the Parley epoch). */
  timeMs: number;
  workerId: number;
  sequence: number;
}

export function encodeId({ timeMs, workerId, sequence }: IdParts): bigint {
  assertEncodableTime(timeMs);
  assertWorkerId(workerId);
  if (!isWholeIn(sequence, 0, MAX_SEQUENCE)) throw new InvalidSequence(sequence, MAX_SEQUENCE);
  return (BigInt(timeMs - PARLEY_EPOCH_MS) << TIMESTAMP_SHIFT) | (BigInt(workerId) << WORKER_SHIFT) | BigInt(sequence);
}

export function decodeId(id: bigint): IdParts {
  if (id < 0n || id > MAX_ID) throw new NotAnId(id);
  return {
    timeMs: PARLEY_EPOCH_MS + Number(id >> TIMESTAMP_SHIFT),
    workerId: Number((id >> WORKER_SHIFT) & BigInt(MAX_WORKER_ID)),
    sequence: Number(id & BigInt(MAX_SEQUENCE)),
  };
}

export interface SnowflakeOptions {
  /**
   * 0 to 1023, unique among running generators: it is what keeps their IDs
   * apart. Either fixed, or a source (a lease) asked for every millisecond.
   */
  workerId: number | WorkerIdSource;
  clock: Clock;
  /**
   * How far back the clock may step before the generator refuses: a smaller
   * step is waited out (stalling calls for up to that long), a larger one
   * throws ClockMovedBackwards so the caller can go elsewhere.
   */
  maxBackwardMs: number;
  /** Waits; injectable so tests control time. Defaults to a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Hands out IDs that are unique and strictly increasing for this worker, in
 * call order, even across concurrent calls and clock steps backwards: it
 * would rather stall or refuse than repeat an ID.
 */
export class SnowflakeGenerator {
  readonly #source: WorkerIdSource;
  /** The worker id of #lastMs's IDs; -1 before the first. */
  #workerId = -1;
  readonly #clock: Clock;
  readonly #maxBackwardMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  /** The last millisecond IDs were made in; -1 before the first. */
  #lastMs = -1;
  /** The next free sequence number in #lastMs; past MAX_SEQUENCE when it is used up. */
  #sequence = 0;
  /** Settles when the previous call has finished: calls run one at a time, in order. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: SnowflakeOptions) {
    if (typeof options.workerId === "number") {
      const fixed = options.workerId;
      assertWorkerId(fixed);
      this.#source = { current: () => fixed };
    } else {
      this.#source = options.workerId;
    }
    if (!(options.maxBackwardMs >= 0)) throw new RangeError(`maxBackwardMs must be 0 or more, got ${options.maxBackwardMs}`);
    this.#clock = options.clock;
    this.#maxBackwardMs = options.maxBackwardMs;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
  }

  /** `count` (1 to MAX_BATCH) new IDs, strictly increasing and above every ID handed out before. */
  async next(count: number): Promise<bigint[]> {
    if (!isWholeIn(count, 1, MAX_BATCH)) throw new InvalidCount(count, MAX_BATCH);
    const turn = this.#tail.then(() => this.#take(count));
    // A refused call must not block the ones queued behind it.
    this.#tail = turn.catch(() => undefined);
    return turn;
  }

  async #take(count: number): Promise<bigint[]> {
    const ids: bigint[] = [];
    while (ids.length < count) {
      await this.#claimMillisecond();
      const room = MAX_SEQUENCE + 1 - this.#sequence;
      const n = Math.min(room, count - ids.length);
      for (let i = 0; i < n; i++) {
        ids.push(encodeId({ timeMs: this.#lastMs, workerId: this.#workerId, sequence: this.#sequence++ }));
      }
    }
    return ids;
  }

  /**
   * Returns once #lastMs has a free sequence number and the clock is not
   * behind it: moving to a newer millisecond when the clock has one, waiting
   * for the next millisecond when this one is used up, and waiting out a step
   * backwards of at most maxBackwardMs in total. Throws WorkerIdUnavailable
   * when the worker id source is fenced.
   */
  async #claimMillisecond(): Promise<void> {
    let backwardBudgetMs = this.#maxBackwardMs;
    for (;;) {
      const now = this.#readClock();
      // After the clock read, so the timestamp was taken while the id was held.
      this.#takeWorkerId();
      if (now > this.#lastMs) {
        this.#lastMs = now;
        this.#sequence = 0;
        return;
      }
      if (now === this.#lastMs) {
        if (this.#sequence <= MAX_SEQUENCE) return;
        await this.#sleep(1); // used up: the next millisecond is less than 1 ms away
        continue;
      }
      const behindMs = this.#lastMs - now;
      if (behindMs > backwardBudgetMs) throw new ClockMovedBackwards(behindMs);
      backwardBudgetMs -= behindMs;
      await this.#sleep(behindMs);
    }
  }

  #takeWorkerId(): void {
    const workerId = this.#source.current();
    if (workerId === undefined) throw new WorkerIdUnavailable();
    if (workerId === this.#workerId) return;
    assertWorkerId(workerId);
    // A new worker id (re-claimed) continues in a fresh millisecond: a lower
    // id in the same millisecond would break the strictly increasing order.
    if (this.#workerId !== -1) this.#sequence = MAX_SEQUENCE + 1;
    this.#workerId = workerId;
  }

  #readClock(): number {
    const now = Math.floor(this.#clock.now());
    assertEncodableTime(now);
    return now;
  }
}

function assertEncodableTime(timeMs: number): void {
  if (!isWholeIn(timeMs, PARLEY_EPOCH_MS, PARLEY_EPOCH_MS + MAX_TIMESTAMP)) throw new TimeOutOfRange(timeMs);
}

function assertWorkerId(workerId: number): void {
  if (!isWholeIn(workerId, 0, MAX_WORKER_ID)) throw new InvalidWorkerId(workerId, MAX_WORKER_ID);
}

function isWholeIn(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}
