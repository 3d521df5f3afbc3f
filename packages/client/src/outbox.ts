import type { SendResponse } from "@parley/contracts/parley/chat/v1/chat";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { ParleyError, deadlineExceeded } from "./errors.js";

/** One message to send. */
export interface OutgoingMessage {
  readonly conversationId: bigint;
  readonly clientMsgId: string;
  readonly text: string;
  /** The message this one replies to (same conversation); absent: not a reply. */
  readonly replyToMessageId?: bigint;
}

/** Sends one attempt on the current connection. */
export type SendAttempt = (message: OutgoingMessage) => Promise<SendResponse>;

export interface QueueOptions {
  signal?: AbortSignal;
  /** Give up (DEADLINE_EXCEEDED) if not acknowledged within this many ms; 0 waits as long as the client runs. */
  timeoutMs?: number;
}

interface Pending extends OutgoingMessage {
  resolve(response: SendResponse): void;
  reject(err: unknown): void;
  readonly retry: Backoff;
  inFlight: boolean;
  settled: boolean;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  cleanup(): void;
}

/**
 * Messages not yet acknowledged by the server. Each keeps its client_msg_id
 * across retries and reconnects, so the server stores it once however often
 * it is sent (a retry is answered with duplicate = true).
 *
 * Guarantees: per conversation, messages are sent one at a time in the order
 * they were queued, so they are stored in that order. A message is retried
 * after a retryable error or a timeout (with backoff) and after a reconnect
 * (at once), until acknowledged, refused with a non-retryable error,
 * cancelled (signal, timeout) or the client stops. A cancelled message may
 * still have been stored: sending it again with the same client_msg_id tells.
 */
export class Outbox {
  private readonly queues = new Map<bigint, Pending[]>();
  private attempt: SendAttempt | undefined;

  constructor(private readonly backoff: BackoffOptions) {}

  /** Messages waiting for their acknowledgement. */
  get size(): number {
    let size = 0;
    for (const queue of this.queues.values()) size += queue.length;
    return size;
  }

  add(message: OutgoingMessage, options: QueueOptions = {}): Promise<SendResponse> {
    return new Promise<SendResponse>((resolve, reject) => {
      const pending: Pending = {
        ...message,
        resolve,
        reject,
        retry: new Backoff(this.backoff),
        inFlight: false,
        settled: false,
        retryTimer: undefined,
        cleanup: () => {},
      };
      const { signal, timeoutMs = 0 } = options;
      if (signal?.aborted) return reject(aborted(signal));
      const onAbort = () => this.cancel(pending, aborted(signal!));
      const timer = timeoutMs > 0 ? setTimeout(() => this.cancel(pending, deadlineExceeded("send", timeoutMs)), timeoutMs) : undefined;
      signal?.addEventListener("abort", onAbort, { once: true });
      pending.cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const queue = this.queues.get(message.conversationId);
      if (queue) queue.push(pending);
      else this.queues.set(message.conversationId, [pending]);
      this.pump(message.conversationId);
    });
  }

  /**
   * Stops retrying the message with this client_msg_id: its send rejects with
   * `err`. False when no such message is waiting (acknowledged, failed, or
   * never queued). An attempt already on the wire may still be stored.
   */
  cancelById(clientMsgId: string, err: unknown): boolean {
    for (const queue of this.queues.values()) {
      const pending = queue.find((p) => p.clientMsgId === clientMsgId && !p.settled);
      if (pending) {
        this.cancel(pending, err);
        return true;
      }
    }
    return false;
  }

  /** A connection is ready: send every conversation's next message now. */
  resume(attempt: SendAttempt): void {
    this.attempt = attempt;
    for (const [conversationId, queue] of this.queues) {
      const head = queue[0];
      if (head) {
        clearTimeout(head.retryTimer);
        head.retryTimer = undefined;
      }
      this.pump(conversationId);
    }
  }

  /** The connection is gone: attempts in flight fail by themselves; the rest wait for resume(). */
  pause(): void {
    this.attempt = undefined;
  }

  /** The client stopped: every message fails with `err`. */
  failAll(err: unknown): void {
    this.attempt = undefined;
    for (const queue of this.queues.values()) for (const pending of queue) this.settle(pending, err);
    this.queues.clear();
  }

  private pump(conversationId: bigint): void {
    const head = this.queues.get(conversationId)?.[0];
    const attempt = this.attempt;
    if (!head || head.inFlight || head.retryTimer || !attempt) return;
    head.inFlight = true;
    attempt(head).then(
      (response) => this.done(head, undefined, response),
      (err: unknown) => {
        if (head.settled || isFinal(err)) return this.done(head, err);
        head.inFlight = false;
        // Retry on this connection after a pause; a new connection resumes at once.
        if (attempt === this.attempt) {
          head.retryTimer = setTimeout(() => {
            head.retryTimer = undefined;
            this.pump(conversationId);
          }, head.retry.next());
        }
      },
    );
  }

  private done(pending: Pending, err: unknown, response?: SendResponse): void {
    pending.inFlight = false;
    this.settle(pending, err, response);
    this.remove(pending);
    this.pump(pending.conversationId);
  }

  private cancel(pending: Pending, err: unknown): void {
    this.settle(pending, err);
    // One in flight is removed when its attempt ends, so the next is not sent alongside it.
    if (!pending.inFlight) {
      this.remove(pending);
      this.pump(pending.conversationId);
    }
  }

  private settle(pending: Pending, err: unknown, response?: SendResponse): void {
    if (pending.settled) return;
    pending.settled = true;
    pending.cleanup();
    clearTimeout(pending.retryTimer);
    pending.retryTimer = undefined;
    if (response && err === undefined) pending.resolve(response);
    else pending.reject(err);
  }

  private remove(pending: Pending): void {
    const queue = this.queues.get(pending.conversationId);
    const index = queue?.indexOf(pending) ?? -1;
    if (!queue || index < 0) return;
    queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(pending.conversationId);
  }
}

/** Only retryable ParleyErrors (server overload, timeouts, a lost connection) are worth another attempt. */
function isFinal(err: unknown): boolean {
  return !(err instanceof ParleyError && err.retryable);
}

function aborted(signal: AbortSignal): ParleyError {
  return new ParleyError("CANCELLED", "the send was aborted", false, { cause: signal.reason });
}
