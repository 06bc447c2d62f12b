// StackService: decode, call the StackOrchestrator, encode; no logic here.
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  StackContainerSchema,
  type StackEvent as StackEventMessage,
  StackEventSchema,
  type StackService,
  StackSummarySchema,
} from '@hypr/api';
import { HyprError } from '@hypr/core';
import type { ControlAction, Emit, StackEvent, StackOrchestrator } from '../stacks/index.js';

/**
 * Runs an operation and streams its events. The operation is not tied to the request: when the
 * client goes away (Ctrl-C on `up -d`), hyprd still finishes what it started.
 */
async function* streamEvents(
  op: (emit: Emit) => Promise<void>,
  signal: AbortSignal,
): AsyncGenerator<StackEventMessage> {
  const queue: StackEvent[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let error: unknown;
  const emit: Emit = (e) => {
    queue.push(e);
    wake?.();
  };
  op(emit).then(
    () => {
      done = true;
      wake?.();
    },
    (e) => {
      error = e;
      done = true;
      wake?.();
    },
  );
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    for (;;) {
      while (queue.length) yield create(StackEventSchema, queue.shift()!);
      if (done || signal.aborted) break;
      await new Promise<void>((r) => {
        wake = r;
      });
      wake = undefined;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (error) throw error;
}

const ACTIONS = new Set<ControlAction>(['start', 'stop', 'restart', 'kill', 'rm']);

export function createStackService(s: StackOrchestrator): ServiceImpl<typeof StackService> {
  return {
    async *up(req, ctx) {
      if (!['', 'always', 'never'].includes(req.build))
        throw new HyprError('INVALID_ARGUMENT', `invalid build mode: ${req.build}`);
      yield* streamEvents(
        (emit) =>
          s.up(
            req.specJson,
            {
              projectDir: req.projectDir,
              configFiles: req.configFiles,
              services: req.services,
              build: req.build as '' | 'always' | 'never',
              forceRecreate: req.forceRecreate,
              noRecreate: req.noRecreate,
              removeOrphans: req.removeOrphans,
              noStart: req.noStart,
              noDeps: req.noDeps,
              wait: req.wait,
              waitTimeoutMs: req.waitTimeoutSeconds * 1000,
              pull: req.pull,
            },
            emit,
          ),
        ctx.signal,
      );
    },
    async *down(req, ctx) {
      yield* streamEvents(
        (emit) =>
          s.down(
            req.name,
            {
              specJson: req.specJson || undefined,
              volumes: req.volumes,
              removeOrphans: req.removeOrphans,
              timeoutSeconds: req.timeoutSeconds,
            },
            emit,
          ),
        ctx.signal,
      );
    },
    async *control(req, ctx) {
      const action = req.action as ControlAction;
      if (!ACTIONS.has(action)) throw new HyprError('INVALID_ARGUMENT', `unknown stack action: ${req.action}`);
      yield* streamEvents(
        (emit) =>
          s.control(
            req.name,
            action,
            {
              services: req.services,
              timeoutSeconds: req.timeoutSeconds,
              signal: req.signal || undefined,
              stopFirst: req.stopFirst,
            },
            emit,
          ),
        ctx.signal,
      );
    },
    async *build(req, ctx) {
      yield* streamEvents(
        (emit) =>
          s.build(req.specJson, req.services, { noCache: req.noCache, pull: req.pull, buildArgs: req.buildArgs }, emit),
        ctx.signal,
      );
    },
    async *pull(req, ctx) {
      yield* streamEvents((emit) => s.pull(req.specJson, req.services, req.ignoreFailures, emit), ctx.signal);
    },
    async containers(req) {
      const rec = s.record(req.name);
      const list = s
        .containersOf(req.name)
        .filter((c) => !req.services.length || req.services.includes(c.service))
        .filter((c) => req.all || c.view.row.state === 'running' || c.view.row.state === 'restarting');
      return {
        services: rec ? Object.keys(rec.spec.services).sort() : [...new Set(list.map((c) => c.service))].sort(),
        containers: list.map((c) =>
          create(StackContainerSchema, {
            id: c.view.row.id,
            name: c.view.row.name,
            service: c.service,
            number: c.number,
            image: c.view.row.imageRef,
            command: c.view.config.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' '),
            state: c.view.row.state,
            status: c.view.status,
            health: c.view.row.health ?? '',
            exitCode: c.view.row.exitCode ?? 0,
            createdAt: BigInt(c.view.row.createdAt),
            ports: c.view.config.create.ports ?? [],
            labels: c.labels,
          }),
        ),
      };
    },
    async list(req) {
      return { stacks: s.list(req.all).map((x) => create(StackSummarySchema, x)) };
    },
  };
}
