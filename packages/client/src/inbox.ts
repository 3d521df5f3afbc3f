import type { InboxEntry } from "@parley/contracts/parley/chat/v1/chat";

/** What to do after offering entries. */
export interface InboxOffer {
  /** The entries to hand to the application now, ascending by seq, each exactly once. */
  apply: InboxEntry[];
  /** True while an entry above cursor + 1 waits for the ones below it: sync from the cursor. */
  syncNeeded: boolean;
}

export interface InboxTrackerOptions {
  /**
   * How many entries above a gap to hold while the sync that fills it runs.
   * Default 1,000. Beyond that the highest are dropped: the sync brings them
   * again, so this bounds memory without losing anything.
   */
  maxBuffered?: number;
  /** How many recent message ids to remember for de-duplication. Default 10,000. */
  rememberMessages?: number;
}

/**
 * The device's position in its inbox, without any I/O: entries from sync pages
 * and live pushes go in, in any order and possibly twice; what comes out is
 * each entry once, in seq order, with no gaps.
 *
 * The cursor is the highest seq held with nothing missing below it (the value
 * the server stores with ackCursor). Entries at or below it are duplicates and
 * dropped. An entry at cursor + 1 is applied, along with any buffered entries
 * it makes contiguous. An entry further ahead is buffered and reported as a
 * gap. A message already applied under another seq (same message_id) moves
 * the cursor but is not applied again.
 */
export class InboxTracker {
  private position: bigint;
  private readonly ahead = new Map<bigint, InboxEntry>();
  private readonly seenMessages = new Set<bigint>();
  private readonly maxBuffered: number;
  private readonly rememberMessages: number;

  constructor(cursor = 0n, options: InboxTrackerOptions = {}) {
    this.position = cursor;
    this.maxBuffered = options.maxBuffered ?? 1_000;
    this.rememberMessages = options.rememberMessages ?? 10_000;
  }

  /** The highest contiguous seq applied. */
  get cursor(): bigint {
    return this.position;
  }

  /** Whether entries wait above a gap. */
  get hasGap(): boolean {
    return this.ahead.size > 0;
  }

  /** How many entries wait above a gap. */
  get buffered(): number {
    return this.ahead.size;
  }

  /** Offers one entry (a live push). */
  offer(entry: InboxEntry): InboxOffer {
    return this.offerAll([entry]);
  }

  /** Offers entries (a sync page, or pushes), in any order. */
  offerAll(entries: Iterable<InboxEntry>): InboxOffer {
    const apply: InboxEntry[] = [];
    for (const entry of entries) {
      if (entry.seq <= this.position) continue;
      if (entry.seq === this.position + 1n) this.advance(entry, apply);
      else this.hold(entry);
    }
    return { apply, syncNeeded: this.hasGap };
  }

  /**
   * Moves the cursor to a position known from elsewhere (the server's stored
   * cursor, for a device without local state). Only forwards: entries at or
   * below it count as held. Returns the entries it made contiguous.
   */
  skipTo(cursor: bigint): InboxOffer {
    const apply: InboxEntry[] = [];
    if (cursor > this.position) {
      this.position = cursor;
      for (const seq of this.ahead.keys()) if (seq <= cursor) this.ahead.delete(seq);
      this.drain(apply);
    }
    return { apply, syncNeeded: this.hasGap };
  }

  private advance(entry: InboxEntry, apply: InboxEntry[]): void {
    this.take(entry, apply);
    this.drain(apply);
  }

  private drain(apply: InboxEntry[]): void {
    for (let next = this.ahead.get(this.position + 1n); next; next = this.ahead.get(this.position + 1n)) {
      this.ahead.delete(next.seq);
      this.take(next, apply);
    }
  }

  private take(entry: InboxEntry, apply: InboxEntry[]): void {
    this.position = entry.seq;
    if (entry.item.case === "message") {
      const id = entry.item.value.messageId;
      if (this.seenMessages.has(id)) return;
      this.remember(id);
    }
    apply.push(entry);
  }

  private hold(entry: InboxEntry): void {
    if (this.ahead.has(entry.seq)) return;
    if (this.ahead.size >= this.maxBuffered) {
      const highest = maxKey(this.ahead);
      if (entry.seq > highest) return;
      this.ahead.delete(highest);
    }
    this.ahead.set(entry.seq, entry);
  }

  private remember(messageId: bigint): void {
    this.seenMessages.add(messageId);
    if (this.seenMessages.size > this.rememberMessages) {
      // A Set iterates in insertion order: the first is the oldest.
      const oldest = this.seenMessages.values().next();
      if (!oldest.done) this.seenMessages.delete(oldest.value);
    }
  }
}

function maxKey(map: Map<bigint, unknown>): bigint {
  let max = -1n;
  for (const key of map.keys()) if (key > max) max = key;
  return max;
}
