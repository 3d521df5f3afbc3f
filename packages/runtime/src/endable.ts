/**
 * `source`, read through, that can be ended from outside with an error:
 * the waiting read (or the next one) fails with it, and `source` is told to
 * stop. When the consumer starts reading, `watch` receives the function
 * that ends the stream and returns what to run when the stream stops,
 * however it stops.
 *
 * Each read waits on a promise of its own, failed by `end` while it waits.
 * The obvious form, racing every read against one promise that lives as
 * long as the stream, leaves a reaction on that promise per message, each
 * holding the message it resolved with, until the stream ends: in the
 * distributed mode chat, presence and the gateway held every message their
 * long-lived internal streams had carried (chat about 34,000 more a minute
 * at 1,000 chat messages a second, 0.5-0.7 KB each), and their growing
 * heaps' full collections stalled the send path (docs/performance.md, "A
 * leak on every internal stream").
 */
export async function* endable<T>(source: AsyncIterable<T>, watch: (end: (err: unknown) => void) => () => void): AsyncGenerator<T, void, undefined> {
  let ended: { err: unknown } | undefined;
  let failRead: ((err: unknown) => void) | undefined;
  const unwatch = watch((err) => {
    ended ??= { err };
    failRead?.(ended.err);
  });
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (ended) throw ended.err;
      const step = await new Promise<IteratorResult<T>>((resolve, reject) => {
        failRead = reject;
        iterator.next().then(resolve, reject);
      });
      failRead = undefined;
      if (step.done) return;
      yield step.value;
    }
  } finally {
    failRead = undefined;
    unwatch();
    // A source still waiting for its next message settles that read later; nothing waits for it.
    Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
