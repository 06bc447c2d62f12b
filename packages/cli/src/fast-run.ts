// `hypr run` without oclif, protobuf-es or the Connect client (bin/run.js tries it first): the flags are
// parsed as docker parses them, the spec is the one commands/run.ts sends (container-spec.ts), and the calls
// are Connect JSON (connect-json.ts): create, then attach-and-start, or start with -d. What it does not
// serve — a flag form it is not sure of, --platform, --pull always, a bad value, no daemon, any error from
// the create — returns false before anything exists in hyprd, and oclif runs the command from the start
// and reports as always (a create that failed left nothing behind). Once the container exists, this path
// sees the run through and reports its errors itself.
import { resolveSocketPath } from '@hypr/api/client-socket';
import { CliError } from './cli-error.js';
import { ConnectJsonError, JsonConnection, type JsonMessages } from './connect-json.js';
import { CREATE_FLAG_SHAPES, type FastFlagShape, type SpecInit, containerSpecInit } from './container-spec.js';
import { splitAtFirstArg } from './docker-args.js';
import { checkTty, runSession, terminalSize } from './stdio-session.js';

const SERVICE = 'hypr.v1.ContainerService';

/** The flags of commands/run.ts: createFlags and run's own. */
export const RUN_FLAG_SHAPES: Record<string, FastFlagShape> = {
  ...CREATE_FLAG_SHAPES,
  detach: { type: 'boolean', char: 'd' },
  'sig-proxy': { type: 'boolean', allowNo: true, default: true },
  attach: { type: 'option', char: 'a', multiple: true },
  'detach-keys': { type: 'option' },
};

const SHORT = new Map(
  Object.entries(RUN_FLAG_SHAPES)
    .filter(([, s]) => s.char)
    .map(([name, s]) => [s.char as string, name]),
);

/**
 * The flags (as oclif gives them to commands/run.ts, defaults included) and the image with its command,
 * when every flag is one this path is sure to read as oclif does and none asks for a pull first; else
 * undefined.
 */
export function parseFastRunArgs(
  argv: readonly string[],
): { flags: Record<string, unknown>; rest: string[] } | undefined {
  const { head, rest } = splitAtFirstArg(argv, RUN_FLAG_SHAPES);
  const flags: Record<string, unknown> = {};
  const take = (name: string, value: string | boolean): boolean => {
    const shape = RUN_FLAG_SHAPES[name];
    if (typeof value === 'string') {
      if (value.startsWith('-') || (shape.options && !shape.options.includes(value))) return false;
      if (shape.integer && !/^\d+$/.test(value)) return false;
      if (shape.multiple) {
        flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
        return true;
      }
    }
    if (name in flags) return false;
    flags[name] = shape.integer ? Number(value) : value;
    return true;
  };
  for (let i = 0; i < head.length; i++) {
    const a = head[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const shape: FastFlagShape | undefined = RUN_FLAG_SHAPES[name];
      if (!shape) {
        const negated = name.startsWith('no-') ? name.slice(3) : '';
        if (eq < 0 && RUN_FLAG_SHAPES[negated]?.allowNo && take(negated, false)) continue;
        return undefined;
      }
      let ok: boolean;
      if (shape.type === 'option') ok = take(name, eq < 0 ? (head[++i] ?? '-') : a.slice(eq + 1));
      else if (eq < 0) ok = take(name, true);
      else {
        // docker's --bool=true|false (normalizeBooleans in docker-args.ts): false without --no- is as if unset
        const v = a.slice(eq + 1).toLowerCase();
        const on = v === 'true' || v === '1';
        ok = (on || v === 'false' || v === '0') && (on || shape.allowNo ? take(name, on) : true);
      }
      if (!ok) return undefined;
      continue;
    }
    // -abc: booleans, the last letter may take the next word; anything else (-eK=V, -e=K) goes to oclif
    if (!/^-[a-zA-Z]+$/.test(a)) return undefined;
    for (let j = 1; j < a.length; j++) {
      const name = SHORT.get(a[j]);
      if (!name) return undefined;
      const option = RUN_FLAG_SHAPES[name].type === 'option';
      if (option && j !== a.length - 1) return undefined;
      if (!take(name, option ? (head[++i] ?? '-') : true)) return undefined;
    }
  }
  for (const [name, shape] of Object.entries(RUN_FLAG_SHAPES))
    if (shape.default !== undefined && !(name in flags)) flags[name] = shape.default;
  // a pull before the create (with its progress) is oclif's
  if (flags.platform !== undefined || flags.pull === 'always') return undefined;
  return { flags, rest };
}

/** A message for protobuf's JSON form: 64-bit integers as strings, unset fields left out. */
export function toProtoJson(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(toProtoJson);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toProtoJson(v)]),
    );
  return value;
}

/** What hyprd said or why the call failed, as commands report it (errors.ts toCliError). */
function report(e: unknown): void {
  const text =
    e instanceof ConnectJsonError
      ? `Error response from daemon: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`
      : e instanceof Error
        ? e.message
        : String(e);
  process.stderr.write(`hypr: ${text}\n`);
}

/**
 * How the session reaches its container: `id`, created already (attached over the Attach stream with -i or
 * -t), or `output`, the AttachOutput call that created it and whose first answer (created_id) is read.
 */
type Attachment = { id: string; output?: undefined } | { id: string; output: AsyncIterator<Record<string, unknown>> };

/** Attaches to the container, starts it and relays its output (and with -i the terminal's input) to its exit status. */
async function attachAndStart(
  hyprd: JsonConnection,
  target: Attachment,
  o: { interactive: boolean; tty: boolean; sigProxy: boolean },
): Promise<number> {
  const { id } = target;
  const start = { id, start: true, stdin: o.interactive, ...(o.tty ? { size: terminalSize() } : {}) };
  const stream = target.output ? undefined : await hyprd.stream(SERVICE, 'Attach');
  return await runSession<unknown, Record<string, unknown>>({
    input: {
      start: { start },
      stdin: (b) => ({ stdin: Buffer.from(b).toString('base64') }),
      resize: (rows, cols) => ({ resize: { rows, cols } }),
      closeStdin: () => ({ closeStdin: true }),
    },
    interactive: o.interactive,
    tty: o.tty,
    call: (requests) => {
      if (!stream) return { [Symbol.asyncIterator]: () => target.output as AsyncIterator<Record<string, unknown>> };
      (async () => {
        for await (const r of requests) stream.send(r);
      })();
      return stream.messages;
    },
    read: (res) => {
      const output = res.output as { stream?: string; data?: string } | undefined;
      const exit = res.exit as { exitCode?: number; error?: string } | undefined;
      if (output)
        return {
          output: { stderr: output.stream === 'STREAM_STDERR', data: Buffer.from(output.data ?? '', 'base64') },
        };
      return exit ? { exit: { exitCode: exit.exitCode ?? 0, error: exit.error ?? '' } } : {};
    },
    onSignal: o.sigProxy
      ? (signal) => {
          hyprd.call(SERVICE, 'Kill', { id, signal }).catch(() => {});
        }
      : undefined,
  });
}

/**
 * Creates the container and attaches to it in one request (AttachOutput with `create`): without -i or -t
 * nothing goes to hyprd after the start. Undefined when the create failed (nothing was made).
 */
async function createAttached(hyprd: JsonConnection, create: unknown): Promise<Attachment | undefined> {
  const output = hyprd.serverStream(SERVICE, 'AttachOutput', { start: true, create }).messages[Symbol.asyncIterator]();
  const first = await output.next().catch(() => undefined);
  const id = first?.done ? undefined : first?.value.createdId;
  return typeof id === 'string' && id ? { id, output } : undefined;
}

/** Runs `hypr run ARGS` if this path serves it; false (nothing done) when oclif should. */
export async function fastRun(argv: readonly string[]): Promise<boolean> {
  const parsed = parseFastRunArgs(argv);
  if (!parsed) return false;
  const { flags, rest } = parsed;
  const interactive = Boolean(flags.interactive);
  const tty = Boolean(flags.tty);
  let spec: SpecInit;
  let name: string;
  let hyprd: JsonConnection;
  try {
    if (!flags.detach) checkTty(interactive, tty);
    ({ spec, name } = containerSpecInit(flags, rest));
    hyprd = new JsonConnection(resolveSocketPath());
  } catch {
    return false;
  }
  const sigProxy = Boolean(flags['sig-proxy']);
  const create = { spec: toProtoJson(spec), name };
  let attachment: Attachment | undefined;
  try {
    if (!flags.detach && !interactive && !tty) attachment = await createAttached(hyprd, create);
    else {
      const { id } = (await hyprd.call(SERVICE, 'Create', create)) as { id: string };
      if (typeof id !== 'string' || !id) throw new CliError('hyprd answered create without an id');
      attachment = { id };
    }
  } catch {
    /* declined below */
  }
  // A failed create (a missing image among others): oclif runs the command, and pulls what is missing.
  if (!attachment) {
    hyprd.close();
    return false;
  }
  try {
    if (flags.detach) {
      await hyprd.call(SERVICE, 'Start', { id: attachment.id });
      process.stdout.write(`${attachment.id}\n`);
    } else {
      process.exitCode = await attachAndStart(hyprd, attachment, { interactive, tty, sigProxy });
    }
  } catch (e) {
    report(e);
    process.exitCode = e instanceof CliError ? e.exitCode : 125;
  } finally {
    hyprd.close();
  }
  return true;
}
