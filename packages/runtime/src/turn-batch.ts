/**
 * Questions asked in one turn of the event loop, answered by one call: a
 * service that would otherwise make a small call per question (a token to
 * check per connecting socket, a friend list per connecting device) pays
 * one call's fixed cost per turn instead. `ask` queues a question; once the
 * turn's I/O has been read (setImmediate), the queued questions go to
 * `answer` in chunks of at most `max`, which must return one answer per
 * question, in order. A chunk whose call fails fails every question in it
 * with that error: so an answer that may be a refusal for one question
 * alone is a value of `A`, not a rejection.
 *
 * At most `maxInFlight` calls are out at once; questions asked meanwhile
 * wait for one to end and then go together. In a storm (thousands of
 * clients reconnecting over a few seconds, a few per turn) that turns
 * thousands of small calls into a few large ones, which the answering
 * service serves at a fraction of the cost; and when it is too slow, a few
 * calls time out rather than thousands (every call cancelled at its
 * deadline is an HTTP/2 stream reset, and a server tears down a connection
 * that resets more than about a thousand streams in a burst, failing every
 * other call on it).
 */
export class TurnBatch<Q, A> {
  private pending: { question: Q; resolve(answer: A): void; reject(err: unknown): void }[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly answer: (questions: Q[]) => Promise<A[]>,
    private readonly max: number,
    private readonly maxInFlight = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`a batch must hold at least one question, not ${max}`);
    if (!(maxInFlight >= 1)) throw new RangeError(`at least one call must be allowed in flight, not ${maxInFlight}`);
  }

  ask(question: Q): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      this.pending.push({ question, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Sends what waits, a chunk per free slot; the rest waits for a call to end. */
  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      const chunk = this.pending.splice(0, this.max);
      this.inFlight++;
      this.answer(chunk.map((a) => a.question))
        .then((answers) => {
          if (answers.length !== chunk.length) throw new Error(`a batch of ${chunk.length} questions got ${answers.length} answers`);
          for (const [j, a] of chunk.entries()) a.resolve(answers[j] as A);
        })
        .catch((err: unknown) => {
          for (const a of chunk) a.reject(err); // settled ones ignore it
        })
        .finally(() => {
          this.inFlight--;
          this.flush();
        });
    }
  }
}
