import type { DeviceSession } from "@parley/contracts/parley/presence/v1/presence";
import type { DeviceLocation } from "../ports.js";

/** One caller's lookup. */
export interface Lookup {
  userIds: readonly bigint[];
  resolve: (found: Map<bigint, DeviceLocation[]>) => void;
  reject: (err: unknown) => void;
}

/**
 * The lookups made in one turn of the event loop, sent together as one or
 * more requests (at most `chunk` users each): every lookup is answered once
 * all of the round's requests are, or all fail together. Settles once.
 */
export class LocateRound {
  readonly users: bigint[];
  /** When its requests left (performance.now()), for the sender's deadline. */
  sentAt = 0;
  private readonly found = new Map<bigint, DeviceLocation[]>();
  /** Users presence could not vouch for (its owners were changing): their lookups fail, so delivery falls back. */
  private readonly unsettled = new Set<bigint>();
  private outstanding = 0;
  private settled = false;

  constructor(
    private readonly lookups: readonly Lookup[],
    private readonly unsettledError: (userIds: bigint[]) => unknown,
  ) {
    this.users = [...new Set(lookups.flatMap((lookup) => lookup.userIds))];
  }

  /** The users split into requests of at most `chunk`; call once, before sending. */
  chunks(chunk: number): bigint[][] {
    const chunks: bigint[][] = [];
    for (let i = 0; i < this.users.length; i += chunk) chunks.push(this.users.slice(i, i + chunk));
    this.outstanding = chunks.length;
    return chunks;
  }

  /**
   * Takes one request's answer; returns true when that was the last one and
   * the lookups are answered. A lookup naming a user presence called
   * unsettled is rejected with `unsettledError(...)` instead.
   */
  answer(sessions: readonly DeviceSession[], unsettled: readonly bigint[] = []): boolean {
    if (this.settled) return false;
    for (const userId of unsettled) this.unsettled.add(userId);
    for (const s of sessions) {
      const list = this.found.get(s.userId);
      if (list) list.push({ deviceId: s.deviceId, gatewayId: s.gatewayId });
      else this.found.set(s.userId, [{ deviceId: s.deviceId, gatewayId: s.gatewayId }]);
    }
    if (--this.outstanding > 0) return false;
    this.settled = true;
    for (const lookup of this.lookups) {
      const unsure = lookup.userIds.filter((id) => this.unsettled.has(id));
      if (unsure.length > 0) {
        lookup.reject(this.unsettledError(unsure));
        continue;
      }
      const mine = new Map<bigint, DeviceLocation[]>();
      for (const id of lookup.userIds) {
        const devices = this.found.get(id);
        if (devices) mine.set(id, devices);
      }
      lookup.resolve(mine);
    }
    return true;
  }

  fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    for (const lookup of this.lookups) lookup.reject(err);
  }
}
