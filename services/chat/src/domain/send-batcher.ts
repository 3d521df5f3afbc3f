import { activeContext, endSpan, isOutage, SpanKind, startSpan, type Context } from "@parley/runtime";
import { noChatMeter, type ChatMeter, type MessageStore, type SendOutcome, type StoredMessage } from "../ports.js";

export interface SendBatcherOptions {
  /** Most messages in one transaction. Default 256. */
  maxBatch?: number;
  /** Batches being stored at once (more use more database connections). Default 2. */
  maxInFlight?: number;
  /** Told each batch's store time and how many new messages it stored. */
  meter?: Pick<ChatMeter, "appended" | "stored">;
}

interface Waiting {
  message: StoredMessage;
  resolve: (outcome: SendOutcome) => void;
  reject: (err: unknown) => void;
  /** The send's trace, when tracing is on: the batch's store span joins it. */
  trace: Context | undefined;
}

/**
 * Group commit for sends. Messages that arrive while batches are being
 * stored wait and go together in the next one, so under load one
 * transaction carries many messages, while a lone send still goes at once
 * (no timer: at most the rest of the current event-loop turn). Each caller
 * gets its own message's outcome or error. When a batch's transaction fails
 * as a whole, its messages are retried one by one, so one bad message (a
 * taken id) cannot fail the others; unless the database is gone, which
 * fails them all at once.
 */
export class SendBatcher {
  readonly #store: Pick<MessageStore, "append" | "appendBatch" | "appendsInOrder">;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #meter: Pick<ChatMeter, "appended" | "stored">;
  #waiting: Waiting[] = [];
  #inFlight = 0;
  /** Conversations with messages in a batch being stored, and how many such batches (kept only when the store does not append in order). */
  readonly #storing = new Map<bigint, number>();
  #scheduled = false;

  constructor(store: Pick<MessageStore, "append" | "appendBatch" | "appendsInOrder">, options: SendBatcherOptions = {}) {
    this.#store = store;
    this.#maxBatch = options.maxBatch ?? 256;
    this.#maxInFlight = options.maxInFlight ?? 2;
    this.#meter = options.meter ?? noChatMeter;
  }

  append(message: StoredMessage): Promise<SendOutcome> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ message, resolve, reject, trace: activeContext() });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#waiting.length === 0) return;
    this.#scheduled = true;
    // Sends decoded from the same incoming batch of frames join this one.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#inFlight < this.#maxInFlight && this.#waiting.length > 0) {
      const batch = this.#store.appendsInOrder ? this.#waiting.splice(0, this.#maxBatch) : this.#nextInOrder();
      if (batch.length === 0) return; // every waiting message's conversation is being stored: they go when it is
      this.#inFlight++;
      void this.#commit(batch).finally(() => {
        this.#inFlight--;
        if (!this.#store.appendsInOrder) this.#release(batch);
        this.#schedule();
      });
    }
  }

  /**
   * The next batch for a store whose batches race: waiting messages of
   * conversations no batch in flight holds, in arrival order. A message of
   * a conversation being stored waits for that batch, so each conversation's
   * messages are stored in the order they were sent (its members' seqs
   * follow it); other conversations' messages do not wait for it.
   */
  #nextInOrder(): Waiting[] {
    const batch: Waiting[] = [];
    const held: Waiting[] = [];
    for (const w of this.#waiting) {
      if (batch.length < this.#maxBatch && !this.#storing.has(w.message.conversationId)) batch.push(w);
      else held.push(w);
    }
    this.#waiting = held;
    // Marked after the batch is chosen: several messages of one conversation may share a batch, which keeps their order.
    for (const w of batch) this.#storing.set(w.message.conversationId, (this.#storing.get(w.message.conversationId) ?? 0) + 1);
    return batch;
  }

  #release(batch: Waiting[]): void {
    for (const w of batch) {
      const left = this.#storing.get(w.message.conversationId)! - 1;
      if (left === 0) this.#storing.delete(w.message.conversationId);
      else this.#storing.set(w.message.conversationId, left);
    }
  }

  async #commit(batch: Waiting[]): Promise<void> {
    if (batch[0]?.trace !== undefined) traceStore(batch);
    let results: (SendOutcome | Error)[];
    const started = performance.now();
    try {
      results = await this.#store.appendBatch(batch.map((w) => w.message));
    } catch (err) {
      this.#meter.appended(batch.length, (performance.now() - started) / 1000);
      // A lost database fails every message alike: answer them all now instead of trying each against it.
      if (isOutage(err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      await Promise.all(batch.map((w) => this.#store.append(w.message).then((outcome) => this.#resolve(w, outcome), w.reject)));
      return;
    }
    this.#meter.appended(batch.length, (performance.now() - started) / 1000);
    let stored = 0;
    batch.forEach((w, i) => {
      const result = results[i]!;
      if (result instanceof Error) {
        w.reject(result);
        return;
      }
      if (!result.duplicate) stored++;
      w.resolve(result);
    });
    this.#meter.stored(stored);
  }

  /** One message retried alone after its batch failed. */
  #resolve(w: Waiting, outcome: SendOutcome): void {
    if (!outcome.duplicate) this.#meter.stored(1);
    w.resolve(outcome);
  }
}

/** With tracing on: a span per send, covering the batch's transaction, ended with the send's own outcome. */
function traceStore(batch: Waiting[]): void {
  for (const w of batch) {
    const span = startSpan("store append", SpanKind.CLIENT, w.trace, { "parley.batch_size": batch.length });
    const { resolve, reject } = w;
    w.resolve = (outcome) => {
      endSpan(span);
      resolve(outcome);
    };
    w.reject = (err) => {
      endSpan(span, err);
      reject(err);
    };
  }
}
