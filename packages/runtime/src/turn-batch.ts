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
 */
export class TurnBatch<Q, A> {
  private pending: { question: Q; resolve(answer: A): void; reject(err: unknown): void }[] = [];

  constructor(
    private readonly answer: (questions: Q[]) => Promise<A[]>,
    private readonly max: number,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`a batch must hold at least one question, not ${max}`);
  }

  ask(question: Q): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      if (this.pending.push({ question, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const asked = this.pending;
    this.pending = [];
    for (let i = 0; i < asked.length; i += this.max) {
      const chunk = asked.slice(i, i + this.max);
      this.answer(chunk.map((a) => a.question))
        .then((answers) => {
          if (answers.length !== chunk.length) throw new Error(`a batch of ${chunk.length} questions got ${answers.length} answers`);
          for (const [j, a] of chunk.entries()) a.resolve(answers[j] as A);
        })
        .catch((err: unknown) => {
          for (const a of chunk) a.reject(err); // settled ones ignore it
        });
    }
  }
}
