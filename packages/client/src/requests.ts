import type { ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { REPLY_TO, type ReplyOf, type RequestKind } from "@parley/wire";
import { ParleyError, deadlineExceeded } from "./errors.js";

interface Waiting {
  expect: string;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The requests in flight on one connection: ids, timeouts and matching
 * replies. Ids count up from 1, so they are non-zero and unique among the
 * requests in flight, as the protocol asks.
 */
export class PendingRequests {
  private lastId = 0n;
  private readonly waiting = new Map<bigint, Waiting>();

  get size(): number {
    return this.waiting.size;
  }

  /** Registers a request; the promise settles with its reply, its error frame, a timeout, or failAll. */
  add<K extends RequestKind>(kind: K, timeoutMs: number): { id: bigint; reply: Promise<ReplyOf<K>> } {
    const id = ++this.lastId;
    const reply = new Promise<ReplyOf<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(deadlineExceeded(kind, timeoutMs));
      }, timeoutMs);
      this.waiting.set(id, { expect: REPLY_TO[kind], resolve: resolve as (value: unknown) => void, reject, timer });
    });
    return { id, reply };
  }

  /** Settles the request a frame answers; false when no request waits for its id. */
  settle(frame: ServerFrame): boolean {
    const waiting = this.waiting.get(frame.id);
    if (!waiting) return false;
    this.waiting.delete(frame.id);
    clearTimeout(waiting.timer);
    const { body } = frame;
    if (body.case === "error") waiting.reject(ParleyError.fromFrame(body.value));
    else if (body.case === waiting.expect) waiting.resolve(body.value);
    else waiting.reject(new ParleyError("INTERNAL", `expected a ${waiting.expect} reply, got ${body.case ?? "an unknown body"}`));
    return true;
  }

  /** Fails one request (it could not be sent). */
  fail(id: bigint, err: unknown): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    clearTimeout(waiting.timer);
    waiting.reject(err);
  }

  /** Fails every request in flight, when the connection is gone. */
  failAll(err: unknown): void {
    for (const id of [...this.waiting.keys()]) this.fail(id, err);
  }
}
