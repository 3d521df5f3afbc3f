import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Domain errors of the ID generator, and the one place that turns them into
 * statuses. Only what a caller can act on is mapped; the rest (a worker id or
 * clock the IDs cannot encode) is a fault of this server, answered INTERNAL
 * and logged with its cause by the runtime's error interceptor.
 */

/** The clock reads earlier than a millisecond already used, by more than the generator may wait out. */
export class ClockMovedBackwards extends Error {
  constructor(readonly behindMs: number) {
    super(`clock moved backwards by ${behindMs} ms`);
    this.name = "ClockMovedBackwards";
  }
}

/** A batch size outside 1..max. */
export class InvalidCount extends Error {
  constructor(
    readonly count: number,
    readonly max: number,
  ) {
    super(`count must be a whole number from 1 to ${max}, got ${count}`);
    this.name = "InvalidCount";
  }
}

/** A worker id that does not fit its 10 bits. */
export class InvalidWorkerId extends Error {
  constructor(
    readonly workerId: number,
    readonly max: number,
  ) {
    super(`worker id must be a whole number from 0 to ${max}, got ${workerId}`);
    this.name = "InvalidWorkerId";
  }
}

/** A sequence number that does not fit its 12 bits. */
export class InvalidSequence extends Error {
  constructor(
    readonly sequence: number,
    readonly max: number,
  ) {
    super(`sequence must be a whole number from 0 to ${max}, got ${sequence}`);
    this.name = "InvalidSequence";
  }
}

/** A time before the Parley epoch or too far after it for 41 bits of milliseconds. */
export class TimeOutOfRange extends Error {
  constructor(readonly timeMs: number) {
    super(`time ${timeMs} ms since 1970 is outside what an ID can encode (2025-01-01 to 2094)`);
    this.name = "TimeOutOfRange";
  }
}

/** The worker id is leased and the lease is fenced (etcd unreachable, or a re-claim in progress). */
export class WorkerIdUnavailable extends Error {
  constructor() {
    super("this ID generator holds no valid worker id right now (its etcd lease is fenced or being claimed again)");
    this.name = "WorkerIdUnavailable";
  }
}

/** A 64-bit value that cannot be a Parley ID (its top bit is set). */
export class NotAnId extends Error {
  constructor(readonly id: bigint) {
    super(`${id} is not a Parley ID: IDs are below 2^63`);
    this.name = "NotAnId";
  }
}

/** Maps a domain error to the status the client sees; undefined for anything else. */
export function mapIdgenError(err: unknown): ConnectError | undefined {
  if (err instanceof ClockMovedBackwards) {
    // Another instance, or this one a moment later, can serve the call.
    return status(`the ID generator's clock moved back by ${err.behindMs} ms; retry`, Code.Unavailable, err);
  }
  if (err instanceof WorkerIdUnavailable) {
    // Issuing without a valid lease could duplicate another instance's IDs; another instance can serve.
    return status(`${err.message}; retry, or call another instance`, Code.Unavailable, err);
  }
  if (err instanceof InvalidCount) {
    // proto3 sends 0 for a count that was not set at all.
    const got = err.count === 0 ? "count is required" : `got count ${err.count}`;
    return status(`${got}; ask for 1 to ${err.max} IDs per call`, Code.InvalidArgument, err);
  }
  if (err instanceof NotAnId) {
    return status(err.message, Code.InvalidArgument, err);
  }
  return undefined;
}

function status(message: string, code: Code, cause: Error): ConnectError {
  return new ConnectError(message, code, undefined, undefined, cause);
}
