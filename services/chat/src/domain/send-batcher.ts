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
  readonly #store: Pick<MessageStore, "append" | "appendBatch">;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #meter: Pick<ChatMeter, "appended" | "stored">;
  #waiting: Waiting[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(store: Pick<MessageStore, "append" | "appendBatch">, options: SendBatcherOptions = {}) {
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
      const batch = this.#waiting.splice(0, this.#maxBatch);
      this.#inFlight++;
      void this.#commit(batch).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
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
