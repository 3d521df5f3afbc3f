import type { Duplex } from "node:stream";

/**
 * Holds a socket's writes until the end of the current turn of the event
 * loop, so every frame written to it in one turn (a burst of deliveries and
 * replies) leaves in one system call instead of one each. Without it, socket
 * writes were the largest single cost of a delivered message after storage.
 * The hold ends in the same turn (process.nextTick), so nothing waits for
 * a later event.
 */
export function writeBatcher(socket: Duplex): () => void {
  let held = false;
  const release = () => {
    held = false;
    socket.uncork();
  };
  return () => {
    if (held) return;
    held = true;
    socket.cork();
    process.nextTick(release);
  };
}

/**
 * A server frame's encoding, kept with the frame object: a message for a
 * user with several connected devices (or a frame reused for many sockets)
 * is encoded once per wire format, not once per socket.
 */
export function encodedOnce<F extends object, D>(encode: (frame: F, format: string) => D): (frame: F, format: string) => D {
  const byFormat = new Map<string, WeakMap<F, D>>();
  return (frame, format) => {
    let cache = byFormat.get(format);
    if (cache === undefined) byFormat.set(format, (cache = new WeakMap()));
    let data = cache.get(frame);
    if (data === undefined) cache.set(frame, (data = encode(frame, format)));
    return data;
  };
}
