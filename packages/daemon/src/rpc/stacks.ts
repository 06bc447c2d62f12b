// StackService: decode, call the StackOrchestrator, encode; no logic here.
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  type RunStackRequest,
  type StackContainer,
  StackContainerSchema,
  type StackEvent as StackEventMessage,
  StackEventSchema,
  type StackService,
  StackSummarySchema,
  type UpStackRequest,
} from '@hypr/api';
import { HyprError } from '@hypr/core';
import {
  type BuildMode,
  type ControlAction,
  type Emit,
  type RemoveImagesMode,
  type RunOptions,
  type StackEvent,
  type StackOrchestrator,
  type StackPsEntry,
  type UpOptions,
  stackSpecFromProto,
} from '../stacks/index.js';

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
  const finish = (e?: unknown) => {
    error = e;
    done = true;
    wake?.();
  };
  op(emit).then(() => finish(), finish);
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

const BUILD_MODES = new Set<string>(['', 'always', 'never']);
const ACTIONS = new Set<string>(['start', 'stop', 'restart', 'kill', 'rm']);

function decodeAction(text: string): ControlAction {
  if (!ACTIONS.has(text)) throw new HyprError('INVALID_ARGUMENT', `unknown stack action: ${text}`);
  return text as ControlAction;
}

function decodeRmi(text: string): RemoveImagesMode | undefined {
  if (text === '') return undefined;
  if (text !== 'local' && text !== 'all')
    throw new HyprError('INVALID_ARGUMENT', `invalid --rmi: "${text}"`, 'use --rmi local or --rmi all');
  return text;
}

function decodeUpOptions(req: UpStackRequest): UpOptions {
  if (!BUILD_MODES.has(req.build)) throw new HyprError('INVALID_ARGUMENT', `invalid build mode: ${req.build}`);
  return {
    projectDir: req.projectDir,
    configFiles: req.configFiles,
    services: req.services,
    build: req.build as BuildMode,
    forceRecreate: req.forceRecreate,
    noRecreate: req.noRecreate,
    removeOrphans: req.removeOrphans,
    noStart: req.noStart,
    noDeps: req.noDeps,
    wait: req.wait,
    waitTimeoutMs: req.waitTimeoutSeconds * 1000,
    pull: req.pull,
    scale: req.scale,
  };
}

function decodeRunOptions(req: RunStackRequest): RunOptions {
  if (!req.service) throw new HyprError('INVALID_ARGUMENT', 'compose run needs a service');
  const { projectDir, configFiles, service, noDeps, rm, servicePorts, name, user, workdir, tty, interactive } = req;
  for (const kv of req.env)
    if (kv.indexOf('=') < 1)
      throw new HyprError('INVALID_ARGUMENT', `invalid environment variable: "${kv}"`, 'write KEY=VALUE');
  return {
    projectDir,
    configFiles,
    service,
    noDeps,
    rm,
    servicePorts,
    name,
    user,
    workdir,
    tty,
    interactive,
    env: req.env,
    command: req.command?.words,
    entrypoint: req.entrypoint?.words,
  };
}

/** docker compose's COMMAND column: words quoted only when they need it. */
function commandText(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

function encodeContainer(c: StackPsEntry): StackContainer {
  const { row, config, status } = c.view;
  return create(StackContainerSchema, {
    id: row.id,
    name: row.name,
    service: c.service,
    number: c.number,
    image: row.imageRef,
    imageDigest: row.imageDigest ?? '',
    command: commandText(config.argv),
    state: row.state,
    status,
    health: row.health ?? '',
    exitCode: row.exitCode ?? 0,
    createdAt: BigInt(row.createdAt),
    ports: config.create.ports ?? [],
    labels: c.labels,
    publishers: c.published.map((p) => ({
      url: p.hostIp,
      targetPort: p.containerPort,
      publishedPort: p.hostPort,
      protocol: p.protocol,
    })),
  });
}

export function createStackService(s: StackOrchestrator): ServiceImpl<typeof StackService> {
  return {
    async *up(req, ctx) {
      const [spec, opts] = [stackSpecFromProto(req.spec), decodeUpOptions(req)];
      yield* streamEvents((emit) => s.up(spec, opts, emit), ctx.signal);
    },
    async *down(req, ctx) {
      const { name, volumes, removeOrphans, timeoutSeconds } = req;
      const spec = req.spec && stackSpecFromProto(req.spec);
      const opts = { spec, volumes, removeOrphans, timeoutSeconds, removeImages: decodeRmi(req.rmi) };
      yield* streamEvents((emit) => s.down(name, opts, emit), ctx.signal);
    },
    async *control(req, ctx) {
      const action = decodeAction(req.action);
      const { services, timeoutSeconds, stopFirst } = req;
      const opts = { services, timeoutSeconds, signal: req.signal || undefined, stopFirst };
      yield* streamEvents((emit) => s.control(req.name, action, opts, emit), ctx.signal);
    },
    async *build(req, ctx) {
      const spec = stackSpecFromProto(req.spec);
      const opts = { noCache: req.noCache, pull: req.pull, buildArgs: req.buildArgs };
      yield* streamEvents((emit) => s.build(spec, req.services, opts, emit), ctx.signal);
    },
    async *pull(req, ctx) {
      const spec = stackSpecFromProto(req.spec);
      yield* streamEvents((emit) => s.pull(spec, req.services, req.ignoreFailures, emit), ctx.signal);
    },
    async *run(req, ctx) {
      const spec = stackSpecFromProto(req.spec);
      const opts = decodeRunOptions(req);
      yield* streamEvents(async (emit) => void (await s.run(spec, opts, emit)), ctx.signal);
    },
    async containers(req) {
      const r = s.ps(req.name, { services: req.services, all: req.all });
      return { services: r.services, containers: r.containers.map(encodeContainer) };
    },
    async list(req) {
      return { stacks: s.list(req.all).map((x) => create(StackSummarySchema, x)) };
    },
  };
}
