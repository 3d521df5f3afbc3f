import type { Clock, LastSeenStore, Timers } from "../ports.js";

/** A user turned online or offline; `lastActiveAt` is in ms since the epoch. */
export interface StatusChange {
  userId: bigint;
  status: "online" | "offline";
  lastActiveAt: number;
}

/** A device as a gateway reports it. */
export interface SessionRef {
  userId: bigint;
  deviceId: bigint;
}

/** A live session, for delivery routing. */
export interface DeviceLocation extends SessionRef {
  gatewayId: string;
}

/** What a query sees: `online` includes the grace period. */
export interface UserStatus {
  online: boolean;
  /** Undefined when the user was never seen (or only before the store existed). */
  lastActiveAt: number | undefined;
}

export interface PresenceTrackerOptions {
  clock: Clock;
  timers: Timers;
  /** How long a user with no live session stays online (default in config: 30 s). */
  graceMs: number;
  /** A session without a heartbeat for this long counts as disconnected at its last heartbeat. */
  heartbeatTimeoutMs: number;
  lastSeen: LastSeenStore;
  /** Called synchronously, after the tracker's state already reflects the change. */
  onChange: (change: StatusChange) => void;
  /** Minimum time between two saves of one user while online (default 60 s); going offline always saves. */
  persistEveryMs?: number;
  /** A failed `lastSeen.save`; the tracker keeps working (default: ignored). */
  onPersistError?: (err: unknown, userId: bigint) => void;
}

interface Session extends DeviceLocation {
  /** Last connect, heartbeat or hello: what the heartbeat timeout measures. */
  seenAt: number;
}

interface UserState {
  userId: bigint;
  /** The status last emitted; stays true through the grace period. */
  online: boolean;
  lastActiveAt: number;
  sessions: Set<Session>;
  grace: unknown;
  savedAt: number | undefined;
  savedValue: number | undefined;
}

const DEFAULT_PERSIST_EVERY_MS = 60_000;

/**
 * Which devices are connected where, and who is online.
 *
 * One instance's share: the gateways send each presence instance the
 * sessions of the users it owns (see UserOwnership), and `forget` drops users
 * whose ownership moved away. State lives in memory; only last-seen times are
 * persisted, and a restarted tracker (or a new owner) rebuilds sessions from
 * the gateways' `gatewayHello`.
 *
 * Cost: one sweep timer for all heartbeat timeouts (every
 * heartbeatTimeoutMs / 2, so a timeout is noticed at most that late), one
 * grace timer per user in grace, one timer per lost gateway.
 *
 * Not reentrant-safe across `close`: do not call other methods after it.
 */
export class PresenceTracker {
  private readonly usersById = new Map<bigint, UserState>();
  private readonly gateways = new Map<string, Map<string, Session>>();
  /** Lost gateways: when the stream broke, and the timer that expires its sessions. */
  private readonly lost = new Map<string, { at: number; timer: unknown }>();
  private readonly pendingSaves = new Set<Promise<void>>();
  private sweepTimer: unknown = undefined;
  private count = 0;
  private readonly persistEveryMs: number;

  constructor(private readonly options: PresenceTrackerOptions) {
    if (!(options.graceMs >= 0)) throw new RangeError("graceMs must be >= 0");
    if (!(options.heartbeatTimeoutMs > 0)) throw new RangeError("heartbeatTimeoutMs must be > 0");
    this.persistEveryMs = options.persistEveryMs ?? DEFAULT_PERSIST_EVERY_MS;
  }

  /** Live sessions, including those of lost gateways not yet expired. */
  get sessionCount(): number {
    return this.count;
  }

  /** A device connected; a repeated connect acts as a heartbeat. */
  connect(gatewayId: string, userId: bigint, deviceId: bigint): void {
    if (this.heartbeat(gatewayId, userId, deviceId)) return;
    const now = this.options.clock.now();
    const user = this.userFor(userId, now);
    const session: Session = { gatewayId, userId, deviceId, seenAt: now };
    let sessions = this.gateways.get(gatewayId);
    if (!sessions) {
      sessions = new Map();
      this.gateways.set(gatewayId, sessions);
    }
    sessions.set(sessionKey(userId, deviceId), session);
    user.sessions.add(session);
    this.count += 1;
    this.scheduleSweep();
    user.lastActiveAt = Math.max(user.lastActiveAt, now);
    this.cancelGrace(user);
    if (!user.online) {
      user.online = true;
      this.options.onChange({ userId, status: "online", lastActiveAt: user.lastActiveAt });
    }
    this.persist(user, false);
  }

  /** A device disconnected; false (and no effect) for an unknown session. */
  disconnect(gatewayId: string, userId: bigint, deviceId: bigint): boolean {
    const session = this.gateways.get(gatewayId)?.get(sessionKey(userId, deviceId));
    if (!session) return false;
    const now = this.options.clock.now();
    const user = this.usersById.get(userId)!;
    user.lastActiveAt = Math.max(user.lastActiveAt, now);
    this.removeSession(session, now);
    return true;
  }

  /**
   * A heartbeat or any activity. Returns false for an unknown session (say,
   * one that already timed out): it is dropped silently, and the caller may
   * count it; the gateway's next hello or connect repairs the state.
   */
  heartbeat(gatewayId: string, userId: bigint, deviceId: bigint): boolean {
    const session = this.gateways.get(gatewayId)?.get(sessionKey(userId, deviceId));
    if (!session) return false;
    const now = this.options.clock.now();
    session.seenAt = now;
    const user = this.usersById.get(userId)!;
    user.lastActiveAt = Math.max(user.lastActiveAt, now);
    this.persist(user, false);
    return true;
  }

  /**
   * A gateway (re)connected and lists every session it holds: this replaces
   * its session set. Listed sessions connect (or count as a heartbeat),
   * unlisted ones disconnect now. Ends a gateway's lost state.
   */
  gatewayHello(gatewayId: string, sessions: readonly SessionRef[]): void {
    const lost = this.lost.get(gatewayId);
    if (lost) {
      this.options.timers.clearTimeout(lost.timer);
      this.lost.delete(gatewayId);
    }
    const listed = new Set<string>();
    for (const { userId, deviceId } of sessions) {
      listed.add(sessionKey(userId, deviceId));
      this.connect(gatewayId, userId, deviceId);
    }
    for (const [key, session] of this.gateways.get(gatewayId) ?? []) {
      if (!listed.has(key)) this.disconnect(gatewayId, session.userId, session.deviceId);
    }
  }

  /**
   * A gateway's stream broke. Its sessions stay (and are exempt from the
   * heartbeat timeout, since no heartbeat can arrive) for graceMs; a hello in
   * that time keeps them, otherwise they expire and users left without a
   * session turn offline at once: their grace ran while the gateway was lost.
   */
  gatewayLost(gatewayId: string): void {
    if (this.lost.has(gatewayId) || !this.gateways.has(gatewayId)) return;
    const at = this.options.clock.now();
    const timer = this.options.timers.setTimeout(() => this.expireGateway(gatewayId), this.options.graceMs);
    this.lost.set(gatewayId, { at, timer });
  }

  /** Status of each user; users unknown in memory are offline, with the stored last-seen time. */
  async statuses(userIds: readonly bigint[]): Promise<Map<bigint, UserStatus>> {
    const unknown = userIds.filter((id) => !this.usersById.has(id));
    const stored = unknown.length > 0 ? await this.options.lastSeen.load(unknown) : new Map<bigint, number>();
    const result = new Map<bigint, UserStatus>();
    for (const userId of userIds) {
      // Memory is re-read after the await: it is newer than the store.
      const user = this.usersById.get(userId);
      result.set(userId, user ? { online: user.online, lastActiveAt: user.lastActiveAt } : { online: false, lastActiveAt: stored.get(userId) });
    }
    return result;
  }

  /** Live sessions of these users, for delivery routing; users without one are absent. */
  devices(userIds: readonly bigint[]): DeviceLocation[] {
    const found: DeviceLocation[] = [];
    for (const userId of new Set(userIds)) {
      for (const { gatewayId, deviceId } of this.usersById.get(userId)?.sessions ?? []) {
        found.push({ userId, deviceId, gatewayId });
      }
    }
    return found;
  }

  /** True when this gateway reported this session and it has not gone. */
  has(gatewayId: string, userId: bigint, deviceId: bigint): boolean {
    return this.gateways.get(gatewayId)?.has(sessionKey(userId, deviceId)) ?? false;
  }

  /** Every user held in memory (online, in grace, or offline until saved), with the status last emitted. */
  users(): { userId: bigint; online: boolean; lastActiveAt: number }[] {
    return [...this.usersById.values()].map(({ userId, online, lastActiveAt }) => ({ userId, online, lastActiveAt }));
  }

  /**
   * Drops these users and their sessions WITHOUT emitting a change: another
   * presence instance owns them now and has their sessions from the
   * gateways, so an "offline" from here would be false. Their last-active
   * times are saved (the store never moves a time backwards). Unknown users
   * are skipped.
   */
  forget(userIds: Iterable<bigint>): void {
    for (const userId of userIds) {
      const user = this.usersById.get(userId);
      if (!user) continue;
      this.options.timers.clearTimeout(user.grace);
      user.grace = undefined;
      for (const session of user.sessions) {
        const sessions = this.gateways.get(session.gatewayId)!;
        sessions.delete(sessionKey(session.userId, session.deviceId));
        if (sessions.size === 0) this.gateways.delete(session.gatewayId);
        this.count -= 1;
      }
      user.sessions.clear();
      this.usersById.delete(userId);
      if (user.savedValue !== user.lastActiveAt) this.persist(user, true);
    }
  }

  /** Resolves once every save started so far has settled. */
  async flush(): Promise<void> {
    while (this.pendingSaves.size > 0) await Promise.all(this.pendingSaves);
  }

  /** Clears every timer, saves unsaved last-seen times and waits for the saves. */
  async close(): Promise<void> {
    const { timers } = this.options;
    timers.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const { timer } of this.lost.values()) timers.clearTimeout(timer);
    this.lost.clear();
    for (const user of this.usersById.values()) {
      timers.clearTimeout(user.grace);
      if (user.savedValue !== user.lastActiveAt) this.persist(user, true);
    }
    await this.flush();
  }

  private userFor(userId: bigint, now: number): UserState {
    let user = this.usersById.get(userId);
    if (!user) {
      user = { userId, online: false, lastActiveAt: now, sessions: new Set(), grace: undefined, savedAt: undefined, savedValue: undefined };
      this.usersById.set(userId, user);
    }
    return user;
  }

  /** Drops a session that counts as gone at `goneAt`; the user's grace runs from then. */
  private removeSession(session: Session, goneAt: number): void {
    const sessions = this.gateways.get(session.gatewayId)!;
    sessions.delete(sessionKey(session.userId, session.deviceId));
    if (sessions.size === 0) this.gateways.delete(session.gatewayId);
    this.count -= 1;
    const user = this.usersById.get(session.userId)!;
    user.sessions.delete(session);
    if (user.sessions.size > 0) return;
    const delay = goneAt + this.options.graceMs - this.options.clock.now();
    if (delay <= 0) {
      this.goOffline(user);
      return;
    }
    user.grace = this.options.timers.setTimeout(() => {
      user.grace = undefined;
      this.goOffline(user);
    }, delay);
  }

  private cancelGrace(user: UserState): void {
    if (user.grace === undefined) return;
    this.options.timers.clearTimeout(user.grace);
    user.grace = undefined;
  }

  private goOffline(user: UserState): void {
    user.online = false;
    this.options.onChange({ userId: user.userId, status: "offline", lastActiveAt: user.lastActiveAt });
    // Forget the user once the store has the time, so memory holds only
    // online users; until then statuses() still answers from memory.
    void this.persist(user, true).then(() => {
      if (!user.online && user.sessions.size === 0 && this.usersById.get(user.userId) === user) this.usersById.delete(user.userId);
    });
  }

  private persist(user: UserState, force: boolean): Promise<void> {
    const now = this.options.clock.now();
    if (!force && user.savedAt !== undefined && now - user.savedAt < this.persistEveryMs) return Promise.resolve();
    user.savedAt = now;
    user.savedValue = user.lastActiveAt;
    const save = this.options.lastSeen.save(user.userId, user.lastActiveAt).then(
      () => undefined,
      (err: unknown) => this.options.onPersistError?.(err, user.userId),
    );
    this.pendingSaves.add(save);
    void save.finally(() => this.pendingSaves.delete(save));
    return save;
  }

  private expireGateway(gatewayId: string): void {
    const lost = this.lost.get(gatewayId);
    this.lost.delete(gatewayId);
    for (const session of [...(this.gateways.get(gatewayId)?.values() ?? [])]) this.removeSession(session, lost!.at);
  }

  private scheduleSweep(): void {
    if (this.sweepTimer !== undefined || this.count === 0) return;
    this.sweepTimer = this.options.timers.setTimeout(() => this.sweep(), this.options.heartbeatTimeoutMs / 2);
  }

  /** Expires sessions silent for heartbeatTimeoutMs, as gone at their last heartbeat. */
  private sweep(): void {
    this.sweepTimer = undefined;
    const cutoff = this.options.clock.now() - this.options.heartbeatTimeoutMs;
    for (const [gatewayId, sessions] of [...this.gateways]) {
      if (this.lost.has(gatewayId)) continue;
      for (const session of [...sessions.values()]) {
        if (session.seenAt <= cutoff) this.removeSession(session, session.seenAt);
      }
    }
    this.scheduleSweep();
  }
}

function sessionKey(userId: bigint, deviceId: bigint): string {
  return `${userId}:${deviceId}`;
}
