/** A queue fed by callbacks and drained by an async generator: events from callbacks become a stream. */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private failure: unknown;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  /** No more items: the reader ends once it has taken the queued ones (or fails with `error`). */
  end(error?: unknown): void {
    this.ended = true;
    this.failure = error;
    this.wake?.();
  }

  async *drain(signal?: AbortSignal): AsyncGenerator<T> {
    const onAbort = () => this.end();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        while (this.items.length) yield this.items.shift() as T;
        if (this.ended) break;
        await new Promise<void>((r) => {
          this.wake = r;
        });
        this.wake = undefined;
      }
      if (this.failure) throw this.failure;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
