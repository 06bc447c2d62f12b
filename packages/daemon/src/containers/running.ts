/**
 * The containers hyprd holds a VM for right now, with what is in flight around them: starts not
 * finished yet, attached readers still draining output, and the last exit code of each (for a
 * `wait --condition removed` that outlives the row).
 */
import type { VmExit, VmHandle } from './runtime/runtime.js';

export interface Live {
  handle: VmHandle;
  /** Resolves once the exit has been processed (state written, --rm and restart policy applied). */
  processed: Promise<VmExit>;
}

export class RunningContainers {
  private readonly live = new Map<string, Live>();
  private readonly starting = new Map<string, Promise<void>>();
  private readonly drains = new Map<string, Set<Promise<void>>>();
  private readonly lastExit = new Map<string, number>();

  get(id: string): Live | undefined {
    return this.live.get(id);
  }

  has(id: string): boolean {
    return this.live.has(id);
  }

  set(id: string, live: Live): void {
    this.live.set(id, live);
  }

  /** The VM of `id` ended with `exitCode`: it is no longer live. */
  ended(id: string, exitCode: number): void {
    this.live.delete(id);
    this.lastExit.set(id, exitCode);
  }

  lastExitCode(id: string): number | undefined {
    return this.lastExit.get(id);
  }

  all(): [string, Live][] {
    return [...this.live.entries()];
  }

  /** The start of `id` under way, if any. */
  pendingStart(id: string): Promise<void> | undefined {
    return this.starting.get(id);
  }

  /** Runs `start` as the one start of `id` in flight. */
  async trackStart(id: string, start: Promise<void>): Promise<void> {
    this.starting.set(id, start);
    try {
      await start;
    } finally {
      this.starting.delete(id);
    }
  }

  /** An attached reader of `id` that must get the last output before an exit is processed; call the result when done. */
  addDrain(id: string): () => void {
    let markDrained: () => void = () => {};
    const drained = new Promise<void>((r) => {
      markDrained = r;
    });
    let set = this.drains.get(id);
    if (!set) this.drains.set(id, (set = new Set()));
    set.add(drained);
    return () => {
      markDrained();
      set.delete(drained);
      if (!set.size) this.drains.delete(id);
    };
  }

  /** Waits (at most `maxMs`) for the attached readers of `id` to take the last output. */
  async drained(id: string, maxMs: number): Promise<void> {
    const drains = [...(this.drains.get(id) ?? [])];
    if (!drains.length) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([Promise.all(drains), new Promise((r) => (timer = setTimeout(r, maxMs)))]);
    } finally {
      clearTimeout(timer);
    }
  }
}
