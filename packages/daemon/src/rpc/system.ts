import type { EventEmitter } from 'node:events';
// SystemService: what the daemon runs on and with.
import { cpus, totalmem } from 'node:os';
import type { ServiceImpl } from '@connectrpc/connect';
import { API_VERSION, type SystemService } from '@hypr/api';
import { HyprError } from '@hypr/core';
import { AsyncQueue } from '../async-queue.js';
import type { ContainerEvent } from '../containers/index.js';
import type { SystemFacts } from '../system/index.js';

const EVENT_FILTERS = ['type', 'container', 'event', 'image'];

/** docker events --filter: values of one key are ORed, keys ANDed. */
export function eventMatcher(filters: readonly string[]): (e: ContainerEvent) => boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    const key = f.slice(0, i);
    if (i <= 0 || !EVENT_FILTERS.includes(key)) throw new HyprError('INVALID_FILTER', `invalid filter '${f}'`);
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

export function createSystemService(
  facts: () => Promise<SystemFacts>,
  events?: EventSource,
): ServiceImpl<typeof SystemService> {
  return {
    async *events(req, ctx) {
      if (!events) throw new HyprError('EVENTS_NOT_SUPPORTED', 'this daemon does not publish events');
      const matches = eventMatcher(req.filters);
      const until = req.untilNano;
      const q = new AsyncQueue<ContainerEvent>();
      const listener = (e: ContainerEvent) => {
        if (matches(e)) q.push(e);
      };
      events.emitter.on('event', listener);
      let timer: NodeJS.Timeout | undefined;
      try {
        const now = BigInt(Date.now()) * 1_000_000n;
        if (req.sinceNano) {
          for (const e of events.recent()) {
            if (e.timeNano >= req.sinceNano && (!until || e.timeNano <= until) && matches(e)) yield e;
          }
        }
        if (until) {
          if (until <= now) return;
          timer = setTimeout(() => q.end(), Number((until - now) / 1_000_000n));
        }
        for await (const e of q.drain(ctx.signal)) {
          if (!req.sinceNano || e.timeNano > now) yield e;
        }
      } finally {
        clearTimeout(timer);
        events.emitter.off('event', listener);
      }
    },
    async info() {
      const f = await facts();
      return {
        ...f,
        os: process.platform,
        architecture: process.arch,
        cpus: cpus().length,
        memoryBytes: BigInt(totalmem()),
      };
    },
    async version() {
      const f = await facts();
      return {
        version: f.serverVersion,
        apiVersion: API_VERSION,
        nodeVersion: process.version,
        os: process.platform,
        arch: process.arch,
      };
    },
    async ping() {
      return {};
    },
  };
}
