/**
 * `docker events`: the recent events replayed from --since, then the live ones, filtered by
 * docker's keys (values of one key ORed, keys ANDed), until --until or the client goes away.
 */
import type { EventEmitter } from 'node:events';
import { HyprError } from '@hypr/core';
import { AsyncQueue } from '../async-queue.js';
import type { ContainerEvent } from '../containers/index.js';

const EVENT_FILTERS = ['type', 'container', 'event', 'image'];

/** docker events --filter: values of one key are ORed, keys ANDed. */
export function eventMatcher(filters: readonly string[]): (e: ContainerEvent) => boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    const key = f.slice(0, i);
    if (i <= 0 || !EVENT_FILTERS.includes(key))
      throw new HyprError('INVALID_FILTER', `invalid filter '${f}'`, `filter keys are ${EVENT_FILTERS.join(', ')}`);
    byKey.set(key, [...(byKey.get(key) ?? []), f.slice(i + 1)]);
  }
  const any = (key: string, test: (v: string) => boolean) => !byKey.has(key) || (byKey.get(key) ?? []).some(test);
  return (e) =>
    any('type', (v) => v === e.type) &&
    any('container', (v) => e.id.startsWith(v) || e.attributes.name === v) &&
    any('event', (v) => e.action === v || e.action.startsWith(`${v}:`)) &&
    any('image', (v) => e.attributes.image === v);
}

/** Where events come from: live ones on `emitter` ('event'), recent ones for --since. */
export interface EventSource {
  emitter: EventEmitter;
  recent(): readonly ContainerEvent[];
}

export interface EventQuery {
  filters: readonly string[];
  /** Unix nanoseconds; 0: only new events. */
  sinceNano: bigint;
  /** Unix nanoseconds; 0: follow until `signal`. */
  untilNano: bigint;
  signal?: AbortSignal;
}

export async function* streamEvents(source: EventSource, q: EventQuery): AsyncGenerator<ContainerEvent> {
  const matches = eventMatcher(q.filters);
  const until = q.untilNano;
  const queue = new AsyncQueue<ContainerEvent>();
  const listener = (e: ContainerEvent) => {
    if (matches(e)) queue.push(e);
  };
  source.emitter.on('event', listener);
  let timer: NodeJS.Timeout | undefined;
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    if (q.sinceNano) {
      for (const e of source.recent())
        if (e.timeNano >= q.sinceNano && (!until || e.timeNano <= until) && matches(e)) yield e;
    }
    if (until) {
      if (until <= now) return;
      timer = setTimeout(() => queue.end(), Number((until - now) / 1_000_000n));
    }
    for await (const e of queue.drain(q.signal)) if (!q.sinceNano || e.timeNano > now) yield e;
  } finally {
    clearTimeout(timer);
    source.emitter.off('event', listener);
  }
}
