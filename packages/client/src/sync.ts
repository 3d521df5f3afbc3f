import type { InboxEntry } from "@parley/contracts/parley/chat/v1/chat";
import { Backoff, type BackoffOptions } from "./backoff.js";
import type { Connection } from "./connection.js";
import { ConnectionClosedError, ParleyError } from "./errors.js";
import type { InboxOffer, InboxTracker } from "./inbox.js";

export interface InboxSyncOptions {
  /** Entries per sync request, 1 to 1,000. */
  pageSize: number;
  /** How long to gather applied entries before acknowledging the cursor. */
  ackDelayMs: number;
  /** Delays between retries of a sync that failed or left a gap. */
  backoff: BackoffOptions;
}

export interface InboxSyncHooks {
  /** Entries for the application, in seq order, each once. */
  deliver(entries: InboxEntry[]): void;
  /** A sync round finished: the device holds everything up to `cursor`. */
  synced(cursor: bigint, headSeq: bigint): void;
  /** A sync or ack failed for a reason other than the connection closing (which reconnecting repairs). */
  failed(err: unknown): void;
}

/**
 * Keeps the device's inbox complete over successive connections: a catch-up
 * sync after every Welcome, page by page until has_more is false; live
 * entries applied as they come; a sync from the cursor whenever one arrives
 * above a gap; the cursor acknowledged after each sync page and, for live
 * entries, at most once per ackDelayMs. The InboxTracker does the ordering and
 * de-duplication; this class does the I/O around it.
 */
export class InboxSync {
  private connection: Connection | undefined;
  private round: Promise<void> | undefined;
  private again = false;
  private acked = 0n;
  private headSeq = 0n;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly retry: Backoff;

  constructor(
    private readonly tracker: InboxTracker,
    private readonly hooks: InboxSyncHooks,
    private readonly options: InboxSyncOptions,
  ) {
    this.retry = new Backoff(options.backoff);
  }

  /** A connection was welcomed: catch up on it. `serverCursor` is Welcome.cursor_seq. */
  attach(connection: Connection, serverCursor: bigint, headSeq: bigint): void {
    this.detach();
    this.connection = connection;
    this.acked = serverCursor;
    this.headSeq = headSeq;
    this.kick();
  }

  /** The connection is gone: stop timers; entries still offered are kept for the next one. */
  detach(): void {
    this.connection = undefined;
    this.round = undefined;
    clearTimeout(this.ackTimer);
    clearTimeout(this.retryTimer);
    this.ackTimer = this.retryTimer = undefined;
  }

  /** A live entry arrived. */
  offer(entry: InboxEntry): void {
    const offer = this.tracker.offer(entry);
    this.apply(offer);
    if (offer.apply.length > 0) this.scheduleAck();
    if (offer.syncNeeded) this.kick();
  }

  /** Syncs now (or joins the round in progress, which then runs once more). */
  sync(): Promise<void> {
    const connection = this.connection;
    if (!connection) return Promise.reject(new ParleyError("UNAVAILABLE", "not connected; the client syncs by itself after reconnecting", true));
    if (this.round) {
      this.again = true;
      return this.round;
    }
    const round = this.run(connection).finally(() => {
      if (this.round === round) this.round = undefined;
    });
    this.round = round;
    return round;
  }

  /** Acknowledges the cursor now if it moved, waiting at most timeoutMs (before closing). */
  async flushAck(timeoutMs: number): Promise<void> {
    const connection = this.connection;
    const seq = this.tracker.cursor;
    if (!connection || seq <= this.acked) return;
    await connection.request("ackCursor", { seq }, timeoutMs).then(
      () => {
        this.acked = seq;
      },
      () => undefined,
    );
  }

  private kick(): void {
    const connection = this.connection;
    this.sync().catch((err: unknown) => this.report(err, connection));
  }

  private async run(connection: Connection): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    try {
      let progressed: boolean;
      do {
        this.again = false;
        progressed = await this.catchUp(connection);
      } while (this.again || (this.tracker.hasGap && progressed));
    } catch (err) {
      this.scheduleRetry(connection);
      throw err;
    }
    // A gap that even a sync did not fill: the missing entries may still be on their way; look again later.
    if (this.tracker.hasGap) this.scheduleRetry(connection);
    else this.retry.reset();
    this.hooks.synced(this.tracker.cursor, this.headSeq);
  }

  /** Pages until has_more is false; whether the cursor moved. */
  private async catchUp(connection: Connection): Promise<boolean> {
    const start = this.tracker.cursor;
    for (;;) {
      const before = this.tracker.cursor;
      const page = await connection.request("sync", { afterSeq: before, limit: this.options.pageSize });
      if (page.headSeq > this.headSeq) this.headSeq = page.headSeq;
      this.apply(this.tracker.offerAll(page.entries));
      this.ackNow();
      // No progress with more to come means the page itself had a gap: stop rather than spin.
      if (!page.hasMore || this.tracker.cursor === before) return this.tracker.cursor > start;
    }
  }

  private apply(offer: InboxOffer): void {
    if (offer.apply.length > 0) this.hooks.deliver(offer.apply);
  }

  private scheduleAck(): void {
    if (this.ackTimer || !this.connection) return;
    this.ackTimer = setTimeout(() => this.ackNow(), this.options.ackDelayMs);
  }

  private ackNow(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const connection = this.connection;
    const seq = this.tracker.cursor;
    if (!connection || seq <= this.acked) return;
    const previous = this.acked;
    this.acked = seq;
    connection.request("ackCursor", { seq }).catch((err: unknown) => {
      if (this.acked === seq) this.acked = previous; // the next ack sends it again
      this.report(err, connection);
    });
  }

  private scheduleRetry(connection: Connection): void {
    if (this.retryTimer || connection !== this.connection) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.retry.next());
  }

  private report(err: unknown, connection: Connection | undefined): void {
    if (err instanceof ConnectionClosedError || connection !== this.connection) return;
    this.hooks.failed(err);
  }
}
