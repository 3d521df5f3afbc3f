/**
 * Runs tasks one after another per key, in the order they were asked for,
 * and tasks of different keys freely. A task runs whether the one before it
 * succeeded or failed; its own result goes to its caller.
 */
export class Turns<K> {
  private readonly tails = new Map<K, Promise<void>>();

  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.tails.set(key, tail);
    // The last task of a key removes its entry, so the map holds only keys with work queued.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
