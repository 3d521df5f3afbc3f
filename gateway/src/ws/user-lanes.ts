import { TokenBucket } from "./rate-limit.js";

export interface LaneLimits {
  /** Frames per second one user may send over all their sockets on this gateway, and the burst above it. */
  framesPerSecond: number;
  frameBurst: number;
  /** Requests of one user being served upstream (chat, presence) at once. */
  maxInFlight: number;
  /** Requests of one user waiting for a place in flight; more are refused. */
  maxQueued: number;
}

/** A socket as its user's lane sees it: it runs requests, and can stop and restart reading. */
export interface LaneMember<T> {
  execute(request: T): Promise<void>;
  pause(): void;
  resume(): void;
}

interface Waiting<T> {
  member: LaneMember<T>;
  request: T;
}

/**
 * What one user may cost this gateway, shared by all of their sockets: one
 * frame budget, and a bound on the requests in flight upstream. Chat serves
 * the commands it receives in arrival order (one stream for the whole
 * gateway, group-committed sends), so a user with thousands of requests in
 * flight would put every other user's send behind them. Here a user's
 * requests beyond `maxInFlight` wait in the user's own queue, and go on
 * only as their earlier ones are answered: a flood delays its sender, not
 * everyone. When the queue is full, the socket that filled it stops being
 * read (TCP pushes back on the flooder) until the queue is half empty;
 * requests that still arrive (already read from the socket) are refused.
 */
export class UserLane<T> {
  readonly bucket: TokenBucket;
  /** Sockets of the user on this gateway holding this lane. */
  sockets = 0;
  #inFlight = 0;
  readonly #waiting: Waiting<T>[] = [];
  readonly #paused = new Set<LaneMember<T>>();
  readonly #done = () => this.#finished();

  constructor(private readonly limits: LaneLimits) {
    this.bucket = new TokenBucket(limits.framesPerSecond, limits.frameBurst);
  }

  /** Runs the request now, or queues it behind the user's others; false when the queue is full (refuse it). */
  submit(member: LaneMember<T>, request: T): boolean {
    if (this.#inFlight < this.limits.maxInFlight) {
      this.#start(member, request);
      return true;
    }
    if (this.#waiting.length >= this.limits.maxQueued) {
      this.#pause(member);
      return false;
    }
    this.#waiting.push({ member, request });
    if (this.#waiting.length >= this.limits.maxQueued) this.#pause(member);
    return true;
  }

  /** A socket closed: it is no longer resumed (its queued requests find it closed and do nothing). */
  forget(member: LaneMember<T>): void {
    this.#paused.delete(member);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  #start(member: LaneMember<T>, request: T): void {
    this.#inFlight++;
    void member.execute(request).then(this.#done, this.#done);
  }

  #finished(): void {
    this.#inFlight--;
    const next = this.#waiting.shift();
    if (next) this.#start(next.member, next.request);
    if (this.#paused.size > 0 && this.#waiting.length <= this.limits.maxQueued / 2) {
      for (const member of this.#paused) member.resume();
      this.#paused.clear();
    }
  }

  #pause(member: LaneMember<T>): void {
    if (this.#paused.has(member)) return;
    this.#paused.add(member);
    member.pause();
  }
}

/**
 * The lanes of the users with sockets on this gateway. A lane outlives its
 * user's last socket until its requests are done and its frame budget has
 * refilled (sweep), so closing and reopening sockets does not buy a fresh
 * burst.
 */
export class UserLanes<T> {
  readonly #lanes = new Map<bigint, UserLane<T>>();

  constructor(private readonly limits: LaneLimits) {}

  join(userId: bigint): UserLane<T> {
    let lane = this.#lanes.get(userId);
    if (!lane) this.#lanes.set(userId, (lane = new UserLane<T>(this.limits)));
    lane.sockets++;
    return lane;
  }

  leave(lane: UserLane<T>, member: LaneMember<T>): void {
    lane.forget(member);
    lane.sockets--;
  }

  /** Drops the lanes of users with no socket here, nothing in flight and a full budget. */
  sweep(): void {
    for (const [userId, lane] of this.#lanes) {
      if (lane.sockets === 0 && lane.inFlight === 0 && lane.queued === 0 && lane.bucket.full()) this.#lanes.delete(userId);
    }
  }

  get size(): number {
    return this.#lanes.size;
  }
}
