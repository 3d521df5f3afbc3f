import type { Duplex } from "node:stream";

/**
 * Holds a socket's writes until the event loop has handled the events
 * that are ready now (setImmediate: after this round of I/O callbacks), so
 * the frames written to it meanwhile (deliveries and replies from several
 * incoming batches) leave in one system call instead of one each. Socket
 * writes were the largest single cost of a delivered message after storage:
 * on loopback a write also pays for the receiving side in the kernel. The
 * hold never waits for a timer or for new I/O, only for callbacks already due.
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
    setImmediate(release);
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
