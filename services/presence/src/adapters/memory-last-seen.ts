import type { LastSeenStore } from "../ports.js";

/**
 * Last-seen times in process memory. Single node only and lost on restart:
 * for tests and the single-process mode; use SqlLastSeenStore otherwise.
 */
export class MemoryLastSeenStore implements LastSeenStore {
  private readonly times = new Map<bigint, number>();

  async load(userIds: readonly bigint[]): Promise<Map<bigint, number>> {
    const found = new Map<bigint, number>();
    for (const userId of userIds) {
      const ms = this.times.get(userId);
      if (ms !== undefined) found.set(userId, ms);
    }
    return found;
  }

  async save(userId: bigint, ms: number): Promise<void> {
    const stored = this.times.get(userId);
    if (stored === undefined || ms > stored) this.times.set(userId, ms);
  }
}
