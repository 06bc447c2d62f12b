/** The feed stopped being the blob's bytes in order: the download started the blob over. */
export class FeedRestartedError extends Error {
  constructor() {
    super('the download of the layer started over');
  }
}

/**
 * A blob's bytes, as they download, for a reader elsewhere in the same process (a layer's disk
 * made while the layer downloads). The writer waits while the reader is `maxChunks` behind, so a
 * slow reader slows the download instead of filling memory; once the reader has stopped (done or
 * failed), writes are dropped and the download goes on. A write not at the offset the reader has
 * reached (the download started over after a cut) ends the feed with FeedRestartedError.
 */
export class LayerFeed implements AsyncIterable<Uint8Array> {
  private queue: Uint8Array[] = [];
  private offset = 0;
  private ended = false;
  private failure: unknown;
  private readerGone = false;
  private wakeReader?: () => void;
  private wakeWriter?: () => void;

  constructor(private readonly maxChunks = 16) {}

  /** Queues `chunk`, which starts at byte `offset` of the blob; resolves once the reader is close enough behind. */
  async write(chunk: Uint8Array, offset: number): Promise<void> {
    if (this.readerGone || this.ended) return;
    if (offset !== this.offset) {
      this.end(new FeedRestartedError());
      return;
    }
    this.offset += chunk.length;
    this.queue.push(chunk);
    this.wake('reader');
    while (this.queue.length >= this.maxChunks && !this.readerGone && !this.ended)
      await new Promise<void>((r) => {
        this.wakeWriter = r;
      });
  }

  /** No more bytes: the blob is whole (and verified), or `failure` says why not. Idempotent. */
  end(failure?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = failure;
    this.wake('reader');
    this.wake('writer');
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const chunk = this.queue.shift();
        if (chunk) {
          this.wake('writer');
          yield chunk;
        } else if (this.ended) {
          if (this.failure !== undefined) throw this.failure;
          return;
        } else {
          await new Promise<void>((r) => {
            this.wakeReader = r;
          });
        }
      }
    } finally {
      this.readerGone = true;
      this.queue = [];
      this.wake('writer');
    }
  }

  private wake(who: 'reader' | 'writer'): void {
    const wake = who === 'reader' ? this.wakeReader : this.wakeWriter;
    if (who === 'reader') this.wakeReader = undefined;
    else this.wakeWriter = undefined;
    wake?.();
  }
}
