import type { Duplex } from "node:stream";

/**
 * Holds a socket's writes until the end of the current turn of the event
 * loop (process.nextTick), so every frame written to it in one turn (a
 * burst of deliveries and replies) leaves in one system call instead of one
 * each. Socket writes were the largest single cost of a delivered message
 * after storage: on loopback a write also pays for the receiving side in
 * the kernel. Holding until setImmediate instead (to also join later
 * callbacks of the same loop iteration) measured no better: pairs-max
 * 19,429 msg/s at 73.7 µs per delivery with nextTick against 15,160 at
 * 79.3 (2026-11-29, same machine, 2 and 3 runs).
 *
 * One small object per socket and no closures: it lives as long as its
 * connection, idle ones included (a pair of closures under tsx, which names
 * each one, cost about 400 bytes per connection).
 */
export class WriteBatcher {
  #held = false;

  constructor(private readonly socket: Duplex) {}

  /** Holds the socket's writes to the end of this turn (once per turn, however often called). */
  hold(): void {
    if (this.#held) return;
    this.#held = true;
    this.socket.cork();
    process.nextTick(WriteBatcher.#release, this);
  }

  static #release(batcher: WriteBatcher): void {
    batcher.#held = false;
    batcher.socket.uncork();
  }
}

/**
 * A server frame's encoding, reused while the same frame is written again:
 * a message for a user with several connected devices is encoded once per
 * wire format, not once per socket. The deliveries of one frame are written
 * one after another, so the last frame of each format is all there is to
 * remember: a WeakMap keyed by every frame (as before) cost more than the
 * encodings it saved, since almost every frame goes to one socket (its
 * set was about 3% of the gateway's CPU at pairs-max, and weak tables are
 * extra work for every garbage collection).
 */
export function encodedOnce<F extends object, D>(encode: (frame: F, format: string) => D): (frame: F, format: string) => D {
  const last = new Map<string, { frame: F | undefined; data: D | undefined }>();
  return (frame, format) => {
    let slot = last.get(format);
    if (slot === undefined) {
      slot = { frame: undefined, data: undefined };
      last.set(format, slot);
    }
    if (slot.frame !== frame) {
      slot.data = encode(frame, format);
      slot.frame = frame;
    }
    return slot.data as D;
  };
}
