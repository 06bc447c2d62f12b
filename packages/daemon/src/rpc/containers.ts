// ContainerService: decode, call the orchestrator, encode; no logic here.
import { type MessageInitShape, create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  type AttachRequest,
  type AttachResponseSchema,
  type AttachStart,
  type ContainerService,
  type ContainerSpec,
  type ContainerSummary,
  ContainerSummarySchema,
  type CopyToContainerRequest,
  type CopyToContainerStart,
  type ExecRequest,
  type LogsResponse,
  LogsResponseSchema,
  type RestartPolicy,
  Stream,
} from '@hypr/api';
import { HyprError } from '@hypr/core';
import type {
  AttachInput,
  AttachIo,
  ContainerView,
  CreateContainerOptions,
  LogEntry,
  LogStream,
  Orchestrator,
  RestartPolicyName,
  WaitCondition,
} from '../containers/index.js';
import { toNetworkOptions, withNetworkInspect, withPorts } from './networks.js';

const RESTART_POLICIES: readonly string[] = ['no', 'on-failure', 'always', 'unless-stopped'];

/** A RestartPolicy message as the orchestrator's option; an unknown name is INVALID_RESTART_POLICY. */
export function toRestartPolicy(p: RestartPolicy | undefined): CreateContainerOptions['restartPolicy'] {
  const name = p?.name || 'no';
  if (!RESTART_POLICIES.includes(name))
    throw new HyprError(
      'INVALID_RESTART_POLICY',
      `invalid restart policy: ${name}`,
      `use one of ${RESTART_POLICIES.join(', ')} (on-failure[:max-retries])`,
    );
  return { name: name as RestartPolicyName, maximumRetryCount: p?.maximumRetryCount ?? 0 };
}

export function toCreateOptions(spec: ContainerSpec, name: string): CreateContainerOptions {
  const restartPolicy = toRestartPolicy(spec.restartPolicy);
  if (spec.autoRemove && restartPolicy?.name !== 'no')
    throw new HyprError('INVALID_ARGUMENT_CONFLICT', 'conflicting options: cannot combine --restart and --rm');
  const hc = spec.healthcheck;
  return {
    image: spec.image,
    name: name || undefined,
    command: spec.command,
    entrypoint: spec.entrypoint,
    env: spec.env,
    workdir: spec.workdir,
    user: spec.user,
    hostname: spec.hostname || undefined,
    labels: spec.labels,
    cpus: spec.cpus || undefined,
    memoryBytes: Number(spec.memoryBytes) || undefined,
    ports: spec.ports,
    volumes: spec.volumes,
    mounts: spec.mounts,
    tmpfs: spec.tmpfs,
    volumesFrom: spec.volumesFrom,
    restartPolicy,
    autoRemove: spec.autoRemove,
    tty: spec.tty,
    openStdin: spec.openStdin,
    stopSignal: spec.stopSignal,
    stopTimeoutSeconds: spec.stopTimeoutSeconds,
    healthcheck: hc?.test.length
      ? {
          test: hc.test,
          intervalMs: Number(hc.intervalMs) || undefined,
          timeoutMs: Number(hc.timeoutMs) || undefined,
          startPeriodMs: Number(hc.startPeriodMs) || undefined,
          retries: hc.retries || undefined,
        }
      : undefined,
    noHealthcheck: spec.noHealthcheck,
    ...(spec.networking ? { network: toNetworkOptions(spec.networking) } : {}),
  };
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a);
}

export function toSummary(v: ContainerView): ContainerSummary {
  const { row, config } = v;
  return create(ContainerSummarySchema, {
    id: row.id,
    name: row.name,
    image: row.imageRef,
    imageId: config.imageId,
    command: config.argv.map(quoteArg).join(' '),
    createdAt: BigInt(row.createdAt),
    state: row.state,
    status: v.status,
    ports: config.create.ports ?? [],
    labels: JSON.parse(row.labels) as Record<string, string>,
    exitCode: row.exitCode ?? 0,
    startedAt: BigInt(row.startedAt ?? 0),
    finishedAt: BigInt(row.finishedAt ?? 0),
    health: row.health ?? '',
    restartCount: row.restartCount,
    networks: v.networks ?? [],
  });
}

export function toLogMessage(e: LogEntry): LogsResponse {
  return create(LogsResponseSchema, {
    stream: e.stream === 'stderr' ? Stream.STDERR : Stream.STDOUT,
    data: e.bytes ?? Buffer.from(e.log),
    time: e.time,
  });
}

/** The requests after the first, as orchestrator input. */
async function* inputOf(it: AsyncIterator<AttachRequest | ExecRequest>): AsyncGenerator<AttachInput> {
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    const m = r.value.msg;
    if (m.case === 'stdin') yield { stdin: m.value };
    else if (m.case === 'resize') yield { resize: { rows: m.value.rows, cols: m.value.cols } };
    else if (m.case === 'closeStdin') yield { closeStdin: true };
    else if (m.case === 'signal') yield { signal: m.value };
  }
}

type Impl = ServiceImpl<typeof ContainerService>;

/** create, start, stop, restart, kill, rm, rename, update, pause, unpause, prune. */
function lifecycleHandlers(
  o: Orchestrator,
): Pick<
  Impl,
  'create' | 'start' | 'stop' | 'restart' | 'kill' | 'remove' | 'rename' | 'update' | 'pause' | 'unpause' | 'prune'
> {
  return {
    async create(req) {
      if (!req.spec) throw new HyprError('INVALID_ARGUMENT', 'no container spec given');
      const v = await o.createChecked(toCreateOptions(req.spec, req.name));
      return { id: v.row.id, name: v.row.name, warnings: [] };
    },
    async start(req) {
      return { id: (await o.start(req.id)).row.id };
    },
    async stop(req) {
      return { id: (await o.stop(req.id, { timeoutSeconds: req.timeoutSeconds, signal: req.signal })).row.id };
    },
    async restart(req) {
      return { id: (await o.restart(req.id, req.timeoutSeconds)).row.id };
    },
    async kill(req) {
      return { id: (await o.kill(req.id, req.signal || 'SIGKILL')).row.id };
    },
    async remove(req) {
      return { id: await o.remove(req.id, { force: req.force, volumes: req.volumes }) };
    },
    async rename(req) {
      const v = o.rename(req.id, req.name);
      return { id: v.row.id, name: v.row.name };
    },
    async update(req) {
      const restartPolicy = req.restartPolicy ? toRestartPolicy(req.restartPolicy) : undefined;
      const memoryBytes = req.memoryBytes === undefined ? undefined : Number(req.memoryBytes);
      const v = o.update(req.id, { restartPolicy, memoryBytes, cpus: req.cpus });
      return { id: v.row.id, warnings: [] };
    },
    async pause(req) {
      return { id: (await o.pause(req.id)).row.id };
    },
    async unpause(req) {
      return { id: (await o.unpause(req.id)).row.id };
    },
    async prune() {
      return { deleted: await o.prune() };
    },
  };
}

/** ps and inspect. */
function queryHandlers(o: Orchestrator): Pick<Impl, 'list' | 'inspect'> {
  return {
    async list(req) {
      const views = o.ps({ all: req.all, filters: req.filters, last: req.last });
      return { containers: views.map((v) => withPorts(o, toSummary(v))) };
    },
    async inspect(req) {
      const { view, doc } = o.inspectDocument(req.id);
      return { json: JSON.stringify(withNetworkInspect(o, doc)), summary: withPorts(o, toSummary(view)) };
    },
  };
}

/** Attach's answers for `start`, the client's later requests coming from `input`. */
async function* attachAnswers(
  o: Orchestrator,
  start: AttachStart,
  input: AsyncGenerator<AttachInput>,
  signal: AbortSignal,
): AsyncGenerator<MessageInitShape<typeof AttachResponseSchema>> {
  const size = start.size ? { rows: start.size.rows, cols: start.size.cols } : undefined;
  const io: AttachIo = { stdin: start.stdin, size, input };
  let id = start.id;
  if (start.create) {
    if (id) throw new HyprError('INVALID_ARGUMENT', 'attach names a container or creates one, not both');
    if (!start.create.spec) throw new HyprError('INVALID_ARGUMENT', 'no container spec given');
    id = (await o.createChecked(toCreateOptions(start.create.spec, start.create.name))).row.id;
    yield { event: { case: 'createdId', value: id } };
  }
  for await (const ev of o.attach(id, { start: start.start, signal, io })) {
    if (ev.started) yield { event: { case: 'startedId', value: ev.started } };
    else if (ev.output) yield { event: { case: 'output', value: toLogMessage(ev.output) } };
    else if (ev.exit)
      yield { event: { case: 'exit', value: { exitCode: ev.exit.exitCode, error: ev.exit.error ?? '' } } };
  }
}

/** wait, logs, attach, exec: the streams. */
function streamHandlers(o: Orchestrator): Pick<Impl, 'wait' | 'logs' | 'attach' | 'attachOutput' | 'exec'> {
  return {
    async *wait(req, ctx) {
      const condition = (req.condition || 'not-running') as WaitCondition;
      o.resolve(req.id);
      yield { waiting: true, exitCode: 0, error: '' };
      const r = await o.wait(req.id, condition, ctx.signal);
      yield { waiting: false, exitCode: r.exitCode, error: r.error ?? '' };
    },
    async *logs(req, ctx) {
      const streams = new Set<LogStream>();
      if (req.stdout || !req.stderr) streams.add('stdout');
      if (req.stderr || !req.stdout) streams.add('stderr');
      for await (const e of o.logs(req.id, {
        follow: req.follow,
        tail: req.tail < 0 ? undefined : req.tail,
        sinceMs: Number(req.sinceMs) || undefined,
        untilMs: Number(req.untilMs) || undefined,
        streams,
        signal: ctx.signal,
      }))
        yield toLogMessage(e);
    },
    async *attach(requests, ctx) {
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || first.value.msg.case !== 'start')
        throw new HyprError('INVALID_ARGUMENT', 'the first attach request must be a start');
      yield* attachAnswers(o, first.value.msg.value, inputOf(it), ctx.signal);
    },
    async *attachOutput(start, ctx) {
      if (start.stdin)
        throw new HyprError('INVALID_ARGUMENT', 'attach-output carries no stdin: attach with stdin through Attach');
      yield* attachAnswers(o, start, (async function* () {})(), ctx.signal);
    },
    async *exec(requests, ctx) {
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || first.value.msg.case !== 'start')
        throw new HyprError('INVALID_ARGUMENT', 'the first exec request must be a start');
      const s = first.value.msg.value;
      for await (const ev of o.exec(s.id, {
        argv: s.command,
        env: s.env,
        workdir: s.workdir,
        user: s.user,
        tty: s.tty,
        detach: s.detach,
        io: { stdin: s.stdin, size: s.size ? { rows: s.size.rows, cols: s.size.cols } : undefined, input: inputOf(it) },
        signal: ctx.signal,
      })) {
        if (ev.output) yield { msg: { case: 'output', value: toLogMessage(ev.output) } };
        else if (ev.exit)
          yield { msg: { case: 'exit', value: { exitCode: ev.exit.exitCode, error: ev.exit.error ?? '' } } };
      }
    },
  };
}

/** The first request of a client stream, which must be `start`; then the data of the others. */
async function splitStart<R extends { msg: { case: string | undefined; value?: unknown } }, S>(
  requests: AsyncIterable<R>,
  what: string,
): Promise<{ start: S; data: AsyncGenerator<Uint8Array> }> {
  const it = requests[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.msg.case !== 'start')
    throw new HyprError('INVALID_ARGUMENT', `the first ${what} request must be a start`);
  async function* data(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      if (r.value.msg.case === 'data') yield r.value.msg.value as Uint8Array;
    }
  }
  return { start: first.value.msg.value as S, data: data() };
}

/** cp, top, stats, commit, export, diff: the container's files and processes. */
function toolHandlers(
  o: Orchestrator,
): Pick<Impl, 'copyFrom' | 'copyTo' | 'statPath' | 'top' | 'stats' | 'commit' | 'export' | 'diff'> {
  return {
    async *copyFrom(req) {
      const { stat, chunks, cancel } = await o.copyFrom(req.id, req.path, req.followLink);
      try {
        yield { msg: { case: 'stat', value: { ...stat, sizeBytes: BigInt(stat.sizeBytes) } } };
        for await (const c of chunks) yield { msg: { case: 'data', value: c } };
      } finally {
        cancel();
      }
    },
    async copyTo(requests) {
      const { start, data } = await splitStart<CopyToContainerRequest, CopyToContainerStart>(requests, 'copy');
      await o.copyTo(start.id, start.dir, data);
      return {};
    },
    async statPath(req) {
      const stat = await o.statPath(req.id, req.path);
      return stat ? { exists: true, stat: { ...stat, sizeBytes: BigInt(stat.sizeBytes) } } : { exists: false };
    },
    async top(req) {
      const t = await o.top(req.id, req.psArgs);
      return { titles: t.titles, processes: t.rows.map((cells) => ({ cells })) };
    },
    async *stats(req, ctx) {
      for await (const round of o.stats({ ids: req.ids, all: req.all, stream: req.stream, signal: ctx.signal }))
        yield {
          stats: round.map((s) => ({
            ...s,
            memoryUsageBytes: BigInt(s.memoryUsageBytes),
            memoryLimitBytes: BigInt(s.memoryLimitBytes),
            netRxBytes: BigInt(s.netRxBytes),
            netTxBytes: BigInt(s.netTxBytes),
            blockReadBytes: BigInt(s.blockReadBytes),
            blockWriteBytes: BigInt(s.blockWriteBytes),
          })),
        };
    },
    async commit(req) {
      const image = await o.commit(req.id, {
        reference: req.reference || undefined,
        message: req.message || undefined,
        author: req.author || undefined,
        changes: req.changes,
        pause: req.pause,
      });
      return { id: image.configDigest };
    },
    async *export(req, ctx) {
      for await (const data of o.export(req.id, ctx.signal)) yield { data };
    },
    async diff(req) {
      return { changes: await o.diff(req.id) };
    },
  };
}

export function createContainerService(o: Orchestrator): Impl {
  return { ...lifecycleHandlers(o), ...queryHandlers(o), ...streamHandlers(o), ...toolHandlers(o) };
}
