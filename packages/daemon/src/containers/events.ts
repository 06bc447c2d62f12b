/**
 * The event ring: docker-style lifecycle events ('event' on `emitter`, the last 1000 kept for
 * `events --since`), and the daemon-internal moments others wait for: a VM ended ('ended', before
 * its exit is processed), its exit was processed ('exit'), the container was removed ('removed').
 */
import { EventEmitter } from 'node:events';
import type { VmExit } from './runtime/runtime.js';
import type { ContainerEvent, ContainerRow, ExitStatus } from './types.js';

/** Events kept for `events --since`. */
const RECENT_EVENTS = 1000;

export type ExitMoment = 'ended' | 'exit';

export function exitStatusOf(exit: VmExit): ExitStatus {
  return { exitCode: exit.exitCode, error: exit.guestError ?? exit.error };
}

export class ContainerEvents {
  /** 'event' (ContainerEvent), 'ended' and 'exit' (id, VmExit), 'removed' (id). */
  readonly emitter = new EventEmitter();
  private readonly ring: ContainerEvent[] = [];

  constructor(private readonly rowOf: (id: string) => ContainerRow | undefined) {
    this.emitter.setMaxListeners(0);
  }

  /** Emits a docker-style event with the container's name and image. */
  publish(action: string, id: string, attributes: Record<string, string> = {}, known?: ContainerRow): void {
    const row = known ?? this.rowOf(id);
    const event: ContainerEvent = {
      type: 'container',
      action,
      id,
      attributes: { ...(row ? { name: row.name, image: row.imageRef } : {}), ...attributes },
      timeNano: BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n),
    };
    this.ring.push(event);
    if (this.ring.length > RECENT_EVENTS) this.ring.shift();
    this.emitter.emit('event', event);
  }

  /** The last events (for `events --since`), oldest first. */
  recent(): readonly ContainerEvent[] {
    return this.ring;
  }

  ended(id: string, exit: VmExit): void {
    this.emitter.emit('ended', id, exit);
  }

  exited(id: string, exit: VmExit): void {
    this.emitter.emit('exit', id, exit);
  }

  removed(id: string): void {
    this.emitter.emit('removed', id);
  }

  /** Calls `fn` on each exit moment of `id`; returns the function that stops listening. */
  onExit(moment: ExitMoment, id: string, fn: (exit: VmExit) => void): () => void {
    const listener = (eid: string, exit: VmExit) => {
      if (eid === id) fn(exit);
    };
    this.emitter.on(moment, listener);
    return () => this.emitter.off(moment, listener);
  }

  onRemoved(id: string, fn: () => void): () => void {
    const listener = (eid: string) => {
      if (eid === id) fn();
    };
    this.emitter.on('removed', listener);
    return () => this.emitter.off('removed', listener);
  }

  /** The next exit moment of `id`, and the function that stops waiting for it. */
  next(moment: ExitMoment, id: string): { exit: Promise<ExitStatus>; cancel: () => void } {
    let cancel: () => void = () => {};
    const exit = new Promise<ExitStatus>((resolve) => {
      cancel = this.onExit(moment, id, (e) => {
        cancel();
        resolve(exitStatusOf(e));
      });
    });
    return { exit, cancel };
  }
}
