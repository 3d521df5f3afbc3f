import { Code, createClient, type Transport } from "@connectrpc/connect";
import { NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import type { Logger } from "@parley/runtime";
import type { PushEraser } from "../ports.js";
import { newMessageEventId } from "./notify-request.js";
import { DEFAULT_RETRY, retried, type RetryPolicy } from "./retry-policy.js";
import { WorkQueue } from "./work-queue.js";

/** Most event ids one Erase names (notify takes up to 500; a group has at most 100 members by default). */
export const ERASE_IDS_PER_CALL = 500;

/** How an erase ended (the outcome label of parley_chat_push_erasures_total). */
export const ERASE_RESULTS = ["erased", "dropped", "failed"] as const;
export type EraseResult = (typeof ERASE_RESULTS)[number];

export interface NotifyEraseOptions {
  /** To NotifyService, as NotifyPushNotifier's (chat's service token in the mesh, in process in the embedded mode). */
  transport: Transport;
  logger: Logger;
  onResult?: (result: EraseResult) => void;
  /** Deletions whose erase may wait (default 1,000). */
  capacity?: number;
  /** Erase calls out at once (default 8). */
  concurrency?: number;
  retry?: RetryPolicy;
  /** The deadline of one Erase call (default 5 s); a hung call is retried as DEADLINE_EXCEEDED. */
  callTimeoutMs?: number;
}

interface Erasure {
  messageId: bigint;
  eventIds: string[];
}

/**
 * The PushEraser on notify's NotifyService.Erase (its promises are on the
 * port): one call per deleted message, naming the push event id of each
 * recipient, through a bounded queue with retries like NotifyPushNotifier's.
 * Deletions are rare next to sends, and one call carries all of a message's
 * recipients, so there is no batching across deletions.
 *
 * A push of the message may still be on its way to notify when the message is
 * deleted: in NotifyPushNotifier's queue, in one of its retries, in a
 * SendBatch in flight, or not even taken off the delivery bus yet, and with
 * Kafka that may be in another chat process (the one that owns the
 * recipient's partition, not the one that served the deletion). Dropping
 * queued hand-offs here would catch only the first case, in this process. So
 * notify does it, where every Send of the event id ends up: Erase remembers
 * an id it has not seen, and a Send of it that comes later is stored erased
 * and sent to no one (notify serialises the two per event id).
 */
export class NotifyPushEraser implements PushEraser {
  private readonly client;
  private readonly queue: WorkQueue<Erasure>;
  private readonly retry: RetryPolicy;
  private closed = false;
  private unloggedDrops = 0;
  private lastDropLogAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: NotifyEraseOptions) {
    this.client = createClient(NotifyService, o.transport);
    this.retry = o.retry ?? DEFAULT_RETRY;
    this.queue = new WorkQueue({
      capacity: o.capacity ?? 1_000,
      concurrency: o.concurrency ?? 8,
      run: (erasure, signal) => this.erase(erasure, signal),
      onError: (err) => o.logger.error({ err }, "push erase failed unexpectedly"),
    });
  }

  messageDeleted(messageId: bigint, recipientIds: readonly bigint[]): void {
    if (this.closed || recipientIds.length === 0) return;
    const eventIds = [...new Set(recipientIds)].map((recipientId) => newMessageEventId(messageId, recipientId));
    // Keyed by message: a second erase of it while the first waits is the same work.
    if (!this.queue.offer({ messageId, eventIds }, `${messageId}`)) this.drop();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.close();
  }

  /** Erases in calls of at most ERASE_IDS_PER_CALL ids, each retried until notify takes it or the attempts run out; returns quietly once closing. */
  private async erase({ messageId, eventIds }: Erasure, signal: AbortSignal): Promise<void> {
    for (let from = 0; from < eventIds.length; from += ERASE_IDS_PER_CALL) {
      const chunk = eventIds.slice(from, from + ERASE_IDS_PER_CALL);
      const result = await retried(
        () => this.client.erase({ eventIds: chunk }, { signal, timeoutMs: this.o.callTimeoutMs ?? 5_000 }),
        this.retry,
        signal,
        (code, attempt) => this.o.logger.debug({ code: Code[code], messageId, attempt }, "erasing a deleted message's pushes in notify failed; retrying"),
      );
      if (result === undefined) return;
      if (!result.ok) {
        // Never the event ids' text: they hold ids only, but the message id is enough to find them.
        this.o.logger.warn(
          { err: result.err, code: Code[result.code], messageId, attempts: result.attempts },
          "erasing a deleted message's pushes in notify failed",
        );
        return this.report("failed");
      }
    }
    this.report("erased");
  }

  /** Counts every drop but warns at most once a second, saying how many went since the last warning. */
  private drop(): void {
    this.report("dropped");
    this.unloggedDrops++;
    const now = Date.now();
    if (now - this.lastDropLogAt < 1_000) return;
    this.o.logger.warn(
      { dropped: this.unloggedDrops, waiting: this.queue.size },
      "push erase queue full: dropping erases (notify keeps those deleted messages' pushes; unsent ones may still go out)",
    );
    this.unloggedDrops = 0;
    this.lastDropLogAt = now;
  }

  private report(result: EraseResult): void {
    this.o.onResult?.(result);
  }
}
