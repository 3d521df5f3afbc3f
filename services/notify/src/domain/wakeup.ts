/** Lets a loop sleep until either a timeout passes or someone calls `wake` (a wake with no sleeper is kept for the next sleep). */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
    if (this.#resolve) this.#resolve();
    else this.#pending = true;
  }

  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      this.#resolve = done;
      function done() {
        clearTimeout(timer);
        self.#resolve = undefined;
        resolve();
      }
    });
  }
}
