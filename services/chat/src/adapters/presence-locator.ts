import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { LocateDevicesStreamRequestSchema, PresenceService, type LocateDevicesStreamRequest } from "@parley/contracts/parley/presence/v1/presence";
import { AsyncQueue, backoffDelayMs, DependencyUnavailable, InFlight, type BackoffOptions, type Logger } from "@parley/runtime";
import type { DeviceLocation, DeviceLocator } from "../ports.js";
import { LocateRound, type Lookup } from "./locate-round.js";

/** Most users in one request (presence refuses more): a larger lookup goes as several requests. */
export const LOCATE_REQUEST_MAX = 1_000;

export interface PresenceLocatorOptions {
  logger: Logger;
  /** How long a round of lookups may wait for its answers (default 5 s); past it the stream counts as broken. */
  timeoutMs?: number;
  /** The delays before reopening a broken stream (default 100 ms doubling up to 5 s, jittered). */
  reopen?: BackoffOptions;
}

interface Link {
  requests: AsyncQueue<LocateDevicesStreamRequest>;
  abort: AbortController;
  done: Promise<void>;
}

const DEFAULT_REOPEN: BackoffOptions = { initialMs: 100, maxMs: 5_000 };
const CLOSE_WAIT_MS = 1_000;
const DEPENDENCY = "the presence service";

/**
 * Device locations from presence over one long-lived LocateDevicesStream,
 * because delivery looks up every message's recipient and a unary call costs
 * far more CPU (on both sides) than a message on an open stream. What it does:
 *
 * - Lookups made in the same turn of the event loop go as one round: their
 *   users, de-duplicated, in requests of at most LOCATE_REQUEST_MAX (so a
 *   lookup of any size is answered whole). Rounds are pipelined: several may
 *   be in flight, answers are matched by request id.
 * - The stream opens at the first lookup. When it breaks (presence restarts
 *   or drains, the network fails, or a round goes unanswered for
 *   `timeoutMs`), every lookup in flight fails with DependencyUnavailable
 *   and the stream is reopened after a jittered backoff that grows while
 *   reopening keeps failing (reset by the first answer). Lookups made while
 *   it is down fail at once in the same way, so delivery falls back to
 *   every gateway instead of waiting. A lookup naming a user presence
 *   answers as unsettled (its instances are moving that user) fails the
 *   same way, so that user's delivery falls back too.
 * - close() ends the stream cleanly: the request side is closed, presence
 *   answers what it has and ends its side (waited for up to a second, then
 *   cut).
 */
export class PresenceDeviceLocator implements DeviceLocator {
  private readonly client;
  private readonly timeoutMs: number;
  private readonly reopen: BackoffOptions;
  /** Rounds waiting for their answers, under their requests' ids (a round of several requests under each). */
  private readonly pending = new InFlight<LocateRound>();
  private link: Link | undefined;
  private tick: Lookup[] = [];
  private scheduled = false;
  private failures = 0;
  private reopenTimer: NodeJS.Timeout | undefined;
  /** Armed while rounds wait, for the oldest one's deadline (see expire). */
  private deadline: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    transport: Transport,
    private readonly o: PresenceLocatorOptions,
  ) {
    this.client = createClient(PresenceService, transport);
    this.timeoutMs = o.timeoutMs ?? 5_000;
    this.reopen = o.reopen ?? DEFAULT_REOPEN;
  }

  locate(userIds: readonly bigint[]): Promise<Map<bigint, DeviceLocation[]>> {
    if (this.closed) return Promise.reject(unavailable(new Error("chat is shutting down")));
    if (userIds.length === 0) return Promise.resolve(new Map());
    return new Promise((resolve, reject) => {
      this.tick.push({ userIds, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // At the end of this turn, not the next: the answer then comes back within the same turn in
      // one process, so a delivery's frames share a socket write with the replies of that turn
      // (setImmediate here cost about 15 µs of CPU per delivered message in embedded pairs-max).
      process.nextTick(() => this.flush());
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reopenTimer);
    clearTimeout(this.deadline);
    for (const lookup of this.tick.splice(0)) lookup.reject(unavailable(new Error("chat is shutting down")));
    const link = this.link;
    if (link === undefined) return;
    link.requests.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([link.done, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    link.abort.abort();
    await link.done;
  }

  /** Sends this turn's lookups as one round. */
  private flush(): void {
    this.scheduled = false;
    const lookups = this.tick.splice(0);
    if (lookups.length === 0) return;
    const link = this.link ?? this.open();
    const round = new LocateRound(lookups, (userIds) =>
      unavailable(new Error(`presence is moving ${userIds.length} of these users between its instances; their devices are not certain`)),
    );
    if (link === undefined) {
      round.fail(unavailable(new Error("the locate stream is down; reopening")));
      return;
    }
    for (const userIds of round.chunks(LOCATE_REQUEST_MAX)) {
      const requestId = BigInt(this.pending.add(round));
      link.requests.push(create(LocateDevicesStreamRequestSchema, { requestId, userIds }));
    }
    round.sentAt = performance.now();
    this.deadline ??= this.armDeadline(this.timeoutMs);
  }

  /**
   * Breaks the stream when its oldest waiting round has waited timeoutMs,
   * else arms the next deadline. One timer for all rounds, not one per
   * round: a timer per round kept the round's lookups alive through
   * young-generation collections, which promoted them and lengthened every
   * pause (docs/performance.md). Rounds wait in the order they were sent.
   */
  private expire(): void {
    this.deadline = undefined;
    const oldest = this.pending.oldest();
    if (oldest === undefined || this.link === undefined) return;
    const left = oldest.sentAt + this.timeoutMs - performance.now();
    if (left > 0) this.deadline = this.armDeadline(left);
    else this.lost(this.link, new ConnectError(`no answer from presence within ${this.timeoutMs} ms`, Code.DeadlineExceeded));
  }

  private armDeadline(ms: number): NodeJS.Timeout {
    return setTimeout(() => this.expire(), ms).unref();
  }

  /** A new stream, or undefined while waiting to reopen (or closed). */
  private open(): Link | undefined {
    if (this.closed || this.reopenTimer !== undefined) return undefined;
    const link: Link = { requests: new AsyncQueue(), abort: new AbortController(), done: Promise.resolve() };
    this.link = link; // before reading: a transport that fails at once must find this link to be the one lost
    link.done = this.read(link);
    return this.link;
  }

  private async read(link: Link): Promise<void> {
    let ended: unknown = new ConnectError("presence ended the locate stream", Code.Unavailable);
    try {
      for await (const response of this.client.locateDevicesStream(link.requests, { signal: link.abort.signal })) {
        this.failures = 0;
        const round = this.pending.take(Number(response.requestId));
        if (round === undefined) continue; // its round failed already
        round.answer(response.sessions, response.unsettledUserIds);
      }
    } catch (err) {
      ended = err;
    }
    this.lost(link, ended);
  }

  /** The stream is gone: fail what it carried and reopen it after a backoff. */
  private lost(link: Link, err: unknown): void {
    if (this.link !== link) return;
    this.link = undefined;
    link.requests.close();
    link.abort.abort();
    const failure = unavailable(err);
    for (const round of this.pending.takeAll()) round.fail(failure);
    if (this.closed) return;
    // One warning per outage: reopening attempts that fail again are logged at debug.
    const log = this.failures === 0 ? this.o.logger.warn.bind(this.o.logger) : this.o.logger.debug.bind(this.o.logger);
    const delayMs = backoffDelayMs(this.failures++, this.reopen);
    log({ err, reopenInMs: delayMs }, "locate stream to presence broke; lookups fail until it is reopened");
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      if (!this.closed && this.link === undefined) this.open();
    }, delayMs);
    this.reopenTimer.unref();
  }
}

function unavailable(cause: unknown): DependencyUnavailable {
  return new DependencyUnavailable(DEPENDENCY, { cause });
}
