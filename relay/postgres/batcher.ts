import { performance } from 'node:perf_hooks';

export type Queued<Request, Answer> = {
  readonly request: Request;
  readonly resolve: (answer: Answer) => void;
  readonly reject: (error: Error) => void;
};

/**
 * Gathers requests for a short window and answers them with one call: a round
 * trip and a statement cost PostgreSQL more CPU than the few index probes of
 * one request (docs/relay-operations.md#what-a-message-costs). `run` answers
 * each request in input order; if it throws, every request of that call fails
 * with the same error (each caller answers its own client, nothing is lost:
 * a failed push read is retried, a failed ack redelivers).
 */
export class Batcher<Request, Answer> {
  private queued: Queued<Request, Answer>[] = [];
  private cancelWindow = (): void => undefined;
  private openedAt = 0;

  /**
   * `windowMs` 0: the requests of one event-loop turn; more: of that many
   * milliseconds. `clock`: tests only (a clock they step, for takeAged).
   */
  constructor(
    private readonly windowMs: number,
    private readonly run: (requests: readonly Request[]) => Promise<readonly Answer[]>,
    private readonly clock = () => performance.now(),
  ) {}

  /** Queues a request; resolves with its own answer once its batch ran. */
  add(request: Request): Promise<Answer> {
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) this.openWindow();
      this.queued.push({ request, resolve, reject });
    });
  }

  /** Runs what is queued now (also called at close, so nothing waits for a timer that no longer matters). */
  flush(): void {
    const batch = this.take();
    if (batch.length > 0) void this.answer(batch);
  }

  /**
   * Hands what is queued to another call that answers it (acks riding in a
   * store call) and cancels the window's timer: the next add opens a new one.
   */
  take(): Queued<Request, Answer>[] {
    return this.takeAged(0);
  }

  /** take(), but only once the oldest queued request has waited `minAgeMs`; else nothing. */
  takeAged(minAgeMs: number): Queued<Request, Answer>[] {
    if (this.queued.length === 0 || this.clock() - this.openedAt < minAgeMs) return [];
    const batch = this.queued;
    this.queued = [];
    this.cancelWindow();
    return batch;
  }

  private openWindow(): void {
    this.openedAt = this.clock();
    if (this.windowMs === 0) {
      const turn = setImmediate(() => this.flush());
      this.cancelWindow = () => clearImmediate(turn);
    } else {
      const timer = setTimeout(() => this.flush(), this.windowMs);
      this.cancelWindow = () => clearTimeout(timer);
    }
  }

  /** Answers taken requests with a call of their own (the other call failed before doing anything). */
  async answer(batch: readonly Queued<Request, Answer>[]): Promise<void> {
    try {
      const answers = await this.run(batch.map((q) => q.request));
      if (answers.length !== batch.length) throw new Error('batch answered short');
      batch.forEach((q, i) => q.resolve(answers[i]!));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error('storage failure');
      batch.forEach((q) => q.reject(failure));
    }
  }
}
