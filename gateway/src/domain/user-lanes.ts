import { TokenBucket } from "./rate-limit.js";

export interface LaneLimits {
  /** Frames per second one user may send over all their sockets on this gateway, and the burst above it. */
  framesPerSecond: number;
  frameBurst: number;
  /** Requests of one user being served upstream (chat, presence) at once. */
  maxInFlight: number;
  /** Requests of one user waiting for a place in flight before the socket adding to them stops being read. */
  maxQueued: number;
}

/** A socket as its user's lane sees it: it runs requests, and can stop and restart reading. */
export interface LaneMember<T> {
  /** Runs a request; `receivedAt` is what submit() was given with it. */
  execute(request: T, receivedAt: number): Promise<void>;
  pause(): void;
  resume(): void;
}

interface Waiting<T> {
  member: LaneMember<T>;
  request: T;
  receivedAt: number;
}

/**
 * What one user may cost this gateway, shared by all of their sockets: one
 * frame budget, and a bound on the requests in flight upstream. Chat serves
 * the commands it receives in arrival order (one stream for the whole
 * gateway, group-committed sends), so a user with thousands of requests in
 * flight would put every other user's send behind them. Here a user's
 * requests beyond `maxInFlight` wait in the user's own queue, and go on
 * only as their earlier ones are answered: a flood delays its sender, not
 * everyone. When `maxQueued` wait, the socket that added the last one stops
 * being read (TCP pushes back on the client, at no cost here) until the
 * queue is half empty. Nothing is refused: the frames a socket had already
 * read when it was paused (the rest of one network read, at most 64 KiB)
 * still join the queue, which bounds it to `maxQueued` plus one read per
 * socket of the user, and spends no work on refusals a client would retry.
 */
export class UserLane<T> {
  readonly bucket: TokenBucket;
  /** Sockets of the user on this gateway holding this lane. */
  sockets = 0;
  #inFlight = 0;
  /** FIFO: entries from #head on wait; the consumed front is cut off now and then (shift() is O(n) on long arrays). */
  #waiting: (Waiting<T> | undefined)[] = [];
  #head = 0;
  /** Made on the first pause: most users never fill their queue, and a lane lives as long as its user's sockets. */
  #paused: Set<LaneMember<T>> | undefined;
  readonly #done = () => this.#finished();

  #blockedUntil = 0;

  constructor(
    private readonly limits: LaneLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.bucket = new TokenBucket(limits.framesPerSecond, limits.frameBurst, now);
  }

  /**
   * A socket of the user was closed for flooding (4002): new sockets are
   * refused until a full budget would have refilled. Without it, each
   * reconnect costs the gateway a token check and a cursor read and buys a
   * socket that floods again at once.
   */
  block(): void {
    this.#blockedUntil = this.now() + (1000 * this.limits.frameBurst) / this.limits.framesPerSecond;
  }

  /** How long new sockets of the user are still refused, ms (0: not blocked). */
  get blockedForMs(): number {
    return Math.max(0, this.#blockedUntil - this.now());
  }

  /**
   * Runs the request now, or queues it behind the user's others (pausing the
   * socket when the queue is full). `receivedAt`, when the request arrived
   * (performance.now()), goes to execute() with it: the wait here is part of
   * the latency the device sees.
   */
  submit(member: LaneMember<T>, request: T, receivedAt = 0): void {
    if (this.#inFlight < this.limits.maxInFlight) {
      this.#start(member, request, receivedAt);
      return;
    }
    this.#waiting.push({ member, request, receivedAt });
    if (this.queued >= this.limits.maxQueued) this.#pause(member);
  }

  /** A socket closed: it is no longer resumed (its queued requests find it closed and do nothing). */
  forget(member: LaneMember<T>): void {
    this.#paused?.delete(member);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#waiting.length - this.#head;
  }

  #start(member: LaneMember<T>, request: T, receivedAt: number): void {
    this.#inFlight++;
    void member.execute(request, receivedAt).then(this.#done, this.#done);
  }

  #finished(): void {
    this.#inFlight--;
    const next = this.#next();
    if (next) this.#start(next.member, next.request, next.receivedAt);
    if (this.#paused !== undefined && this.#paused.size > 0 && this.queued <= this.limits.maxQueued / 2) {
      for (const member of this.#paused) member.resume();
      this.#paused.clear();
    }
  }

  #next(): Waiting<T> | undefined {
    if (this.#head === this.#waiting.length) return undefined;
    const next = this.#waiting[this.#head];
    this.#waiting[this.#head++] = undefined; // let it go
    if (this.#head === this.#waiting.length) {
      this.#waiting.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    return next;
  }

  #pause(member: LaneMember<T>): void {
    this.#paused ??= new Set();
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

  constructor(
    private readonly limits: LaneLimits,
    private readonly now?: () => number,
  ) {}

  /** The user's lane here, if they have one (a socket, or a budget not yet refilled). */
  get(userId: bigint): UserLane<T> | undefined {
    return this.#lanes.get(userId);
  }

  join(userId: bigint): UserLane<T> {
    let lane = this.#lanes.get(userId);
    if (!lane) {
      lane = new UserLane<T>(this.limits, this.now);
      this.#lanes.set(userId, lane);
    }
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
      if (lane.sockets === 0 && lane.inFlight === 0 && lane.queued === 0 && lane.blockedForMs === 0 && lane.bucket.full()) this.#lanes.delete(userId);
    }
  }

  get size(): number {
    return this.#lanes.size;
  }
}
