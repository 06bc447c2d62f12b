import { type ErrorCode, suggest } from '../errors.js';
import { DockerfileError, ExpansionError } from './errors.js';
import type { DockerfileHeredoc } from './lexer.js';
import type { DockerfileFlag, DockerfileKeyword, DockerfileNode } from './parser.js';

/**
 * Phase 4 of the parse: AST node → typed instruction, with words expanded by the caller's
 * expander (which knows the ARG/ENV scope at that point). Which words are expanded follows
 * BuildKit: FROM, ADD, COPY, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG defaults and
 * the values of flags; RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD are kept as written
 * (the shell in the container expands them).
 */

/** A command in exec form (argv, no shell) or shell form (a script for the SHELL). */
export type DockerfileCommand = { form: 'exec'; argv: string[] } | { form: 'shell'; script: string };

interface InstructionBase {
  keyword: DockerfileKeyword;
  /** 1-based line of the first physical line, its last line and the keyword's column. */
  line: number;
  endLine: number;
  column: number;
  /** The logical line as written. */
  original: string;
}

export interface DockerfileRunMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  target?: string;
  source?: string;
  /** Stage name/index or image the mount reads from (bind, cache). */
  from?: string;
  id?: string;
  sharing?: 'shared' | 'private' | 'locked';
  mode?: number;
  uid?: number;
  gid?: number;
  required?: boolean;
  readOnly: boolean;
  sizeBytes?: number;
  env?: string;
}

export interface FromInstruction extends InstructionBase {
  keyword: 'FROM';
  image: string;
  stageName?: string;
  platform?: string;
}
export interface RunInstruction extends InstructionBase {
  keyword: 'RUN';
  command: DockerfileCommand;
  mounts: DockerfileRunMount[];
  network?: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
  heredocs: DockerfileHeredoc[];
}
export interface CmdInstruction extends InstructionBase {
  keyword: 'CMD';
  command: DockerfileCommand;
}
export interface EntrypointInstruction extends InstructionBase {
  keyword: 'ENTRYPOINT';
  command: DockerfileCommand;
}
export interface ShellInstruction extends InstructionBase {
  keyword: 'SHELL';
  shell: string[];
}
/** A COPY/ADD source: a context (or --from) path, or an inline heredoc file. */
export type DockerfileCopySource = { kind: 'path'; path: string } | { kind: 'heredoc'; name: string; content: string };
interface CopyLike extends InstructionBase {
  sources: DockerfileCopySource[];
  destination: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
}
export interface CopyInstruction extends CopyLike {
  keyword: 'COPY';
  /** Stage name (lower-case), stage index or image reference. */
  from?: string;
  parents: boolean;
}
export interface AddInstruction extends CopyLike {
  keyword: 'ADD';
  checksum?: string;
  keepGitDir: boolean;
  unpack?: boolean;
}
export interface DockerfileKeyValuePair {
  key: string;
  value: string;
}
export interface EnvInstruction extends InstructionBase {
  keyword: 'ENV';
  env: DockerfileKeyValuePair[];
}
export interface LabelInstruction extends InstructionBase {
  keyword: 'LABEL';
  labels: DockerfileKeyValuePair[];
}
export interface MaintainerInstruction extends InstructionBase {
  keyword: 'MAINTAINER';
  maintainer: string;
}
export interface DockerfileArgDeclaration {
  name: string;
  /** The default after expansion, when one is written. */
  defaultValue?: string;
  /** The value in effect: --build-arg, else the default, else the global ARG; undefined when unset. */
  value?: string;
}
export interface ArgInstruction extends InstructionBase {
  keyword: 'ARG';
  args: DockerfileArgDeclaration[];
}
export interface DockerfilePort {
  port: number;
  endPort?: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}
export interface ExposeInstruction extends InstructionBase {
  keyword: 'EXPOSE';
  ports: DockerfilePort[];
}
export interface VolumeInstruction extends InstructionBase {
  keyword: 'VOLUME';
  paths: string[];
}
export interface UserInstruction extends InstructionBase {
  keyword: 'USER';
  user: string;
  group?: string;
}
export interface WorkdirInstruction extends InstructionBase {
  keyword: 'WORKDIR';
  /** As written after expansion. */
  path: string;
}
export interface StopsignalInstruction extends InstructionBase {
  keyword: 'STOPSIGNAL';
  signal: string;
}
export interface HealthcheckInstruction extends InstructionBase {
  keyword: 'HEALTHCHECK';
  /** undefined for HEALTHCHECK NONE (disables the base image's check). */
  command?: DockerfileCommand;
  intervalMs?: number;
  timeoutMs?: number;
  startPeriodMs?: number;
  startIntervalMs?: number;
  retries?: number;
}
export interface OnbuildInstruction extends InstructionBase {
  keyword: 'ONBUILD';
  /** The trigger as written, run by builds FROM this image. */
  trigger: string;
  triggerKeyword: DockerfileKeyword;
}

export type DockerfileInstruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | CopyInstruction
  | AddInstruction
  | EnvInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ArgInstruction
  | ExposeInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction;

/** Expands one word in the scope of the instruction (see stages.ts). */
export type WordExpander = (word: string, options?: { processQuotes?: boolean }) => string;

type FlagKind = 'string' | 'bool' | 'list';
const FLAG_SPECS: Partial<Record<DockerfileKeyword, Record<string, FlagKind>>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'list', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'list' },
  ADD: {
    chown: 'string',
    chmod: 'string',
    checksum: 'string',
    link: 'bool',
    'keep-git-dir': 'bool',
    unpack: 'bool',
    exclude: 'list',
  },
  HEALTHCHECK: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
};

type FlagValues = Record<string, string | boolean | string[] | undefined>;

function failAt(
  node: DockerfileNode,
  file: string | undefined,
  code: ErrorCode,
  message: string,
  hint?: string,
): never {
  throw new DockerfileError(code, message, file, node.line, node.column, hint);
}

/** Checks flags against the instruction's spec (BuildKit's BFlags rules). */
export function readFlags(node: DockerfileNode, file: string | undefined): FlagValues {
  const spec = FLAG_SPECS[node.keyword] ?? {};
  const out: FlagValues = {};
  for (const f of node.flags) {
    const kind = spec[f.name];
    if (!kind) {
      const names = Object.keys(spec);
      const guess = suggest(f.name, names);
      failAt(
        node,
        file,
        'DOCKERFILE_UNKNOWN_FLAG',
        `unknown flag: --${f.name}${guess ? ` (did you mean --${guess}?)` : ''}`,
        names.length
          ? `${node.keyword} accepts ${names.map((n) => `--${n}`).join(', ')}`
          : `${node.keyword} takes no flags`,
      );
    }
    if (kind === 'bool') {
      if (f.value !== undefined && !/^(true|false)$/i.test(f.value)) {
        failAt(node, file, 'DOCKERFILE_BAD_FLAG', `expecting boolean value for flag ${f.name}, not: ${f.value}`);
      }
      if (out[f.name] !== undefined) failAt(node, file, 'DOCKERFILE_BAD_FLAG', `Duplicate flag specified: --${f.name}`);
      out[f.name] = f.value === undefined || f.value.toLowerCase() === 'true';
      continue;
    }
    if (f.value === undefined) {
      failAt(node, file, 'DOCKERFILE_BAD_FLAG', `Missing a value on flag: --${f.name}`, `write --${f.name}=VALUE`);
    }
    if (kind === 'list') {
      const list = (out[f.name] as string[] | undefined) ?? [];
      list.push(f.value);
      out[f.name] = list;
    } else {
      if (out[f.name] !== undefined) failAt(node, file, 'DOCKERFILE_BAD_FLAG', `Duplicate flag specified: --${f.name}`);
      out[f.name] = f.value;
    }
  }
  return out;
}

/** Go's time.ParseDuration, in milliseconds. */
export function parseGoDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let pos = 0;
  if (text === '') return undefined;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number.parseFloat(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  return total;
}

function command(node: DockerfileNode): DockerfileCommand {
  return node.json ? { form: 'exec', argv: [...node.args] } : { form: 'shell', script: node.args[0] ?? '' };
}

function parseMount(spec: string, node: DockerfileNode, file: string | undefined): DockerfileRunMount {
  const mount: DockerfileRunMount = { type: 'bind', readOnly: true };
  let readOnlySet = false;
  const fields = splitCsv(spec);
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    const need = (): string => {
      if (value === undefined)
        failAt(node, file, 'DOCKERFILE_BAD_MOUNT', `invalid field '${field}' must be a key=value pair`);
      return value;
    };
    const num = (): number => {
      const v = need();
      if (!/^\d+$/.test(v)) failAt(node, file, 'DOCKERFILE_BAD_MOUNT', `invalid value for ${key}: ${v}`);
      return key === 'mode' ? Number.parseInt(v, 8) : Number.parseInt(v, 10);
    };
    const bool = (): boolean => {
      if (value === undefined) return true;
      if (!/^(true|false|1|0)$/i.test(value))
        failAt(node, file, 'DOCKERFILE_BAD_MOUNT', `invalid value for ${key}: ${value}`);
      return /^(true|1)$/i.test(value);
    };
    switch (key) {
      case 'type': {
        const t = need();
        if (!['bind', 'cache', 'tmpfs', 'secret', 'ssh'].includes(t)) {
          failAt(
            node,
            file,
            'DOCKERFILE_BAD_MOUNT',
            `unsupported mount type "${t}"`,
            'use bind, cache, tmpfs, secret or ssh',
          );
        }
        mount.type = t as DockerfileRunMount['type'];
        if (!readOnlySet) mount.readOnly = t === 'bind';
        break;
      }
      case 'target':
      case 'dst':
      case 'destination':
        mount.target = need();
        break;
      case 'source':
      case 'src':
        mount.source = need();
        break;
      case 'from':
        mount.from = need();
        break;
      case 'id':
        mount.id = need();
        break;
      case 'sharing': {
        const s = need();
        if (!['shared', 'private', 'locked'].includes(s)) {
          failAt(
            node,
            file,
            'DOCKERFILE_BAD_MOUNT',
            `unsupported sharing value "${s}"`,
            'use shared, private or locked',
          );
        }
        mount.sharing = s as DockerfileRunMount['sharing'];
        break;
      }
      case 'mode':
        mount.mode = num();
        break;
      case 'uid':
        mount.uid = num();
        break;
      case 'gid':
        mount.gid = num();
        break;
      case 'required':
        mount.required = bool();
        break;
      case 'ro':
      case 'readonly':
        mount.readOnly = bool();
        readOnlySet = true;
        break;
      case 'rw':
      case 'readwrite':
        mount.readOnly = !bool();
        readOnlySet = true;
        break;
      case 'size':
        mount.sizeBytes = num();
        break;
      case 'env':
        mount.env = need();
        break;
      default:
        failAt(node, file, 'DOCKERFILE_BAD_MOUNT', `unexpected key '${key}' in '${field}'`);
    }
  }
  if ((mount.type === 'bind' || mount.type === 'cache' || mount.type === 'tmpfs') && !mount.target) {
    failAt(node, file, 'DOCKERFILE_BAD_MOUNT', `--mount=type=${mount.type} requires a target`, 'add target=/path');
  }
  if (mount.type === 'cache' && mount.sharing === undefined) mount.sharing = 'shared';
  return mount;
}

/** Splits a --mount value on commas outside double quotes (a CSV record, as BuildKit reads it). */
function splitCsv(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      if (quoted && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((f) => f.length > 0);
}

function parsePort(word: string, node: DockerfileNode, file: string | undefined): DockerfilePort {
  // EXPOSE ip:host:container/proto is accepted by docker; only the container part matters.
  const spec = word.includes(':') ? word.slice(word.lastIndexOf(':') + 1) : word;
  const m = /^(\d+)(?:-(\d+))?(?:\/([A-Za-z]+))?$/.exec(spec);
  const port = m ? Number(m[1]) : Number.NaN;
  const endPort = m?.[2] ? Number(m[2]) : undefined;
  const protocol = (m?.[3] ?? 'tcp').toLowerCase();
  if (
    !m ||
    port < 1 ||
    port > 65535 ||
    (endPort !== undefined && (endPort < port || endPort > 65535)) ||
    !['tcp', 'udp', 'sctp'].includes(protocol)
  ) {
    failAt(
      node,
      file,
      'DOCKERFILE_BAD_PORT',
      `invalid containerPort: ${word}`,
      'write PORT, PORT/tcp, PORT/udp or FIRST-LAST',
    );
  }
  return endPort !== undefined && endPort !== port
    ? { port, endPort, protocol: protocol as DockerfilePort['protocol'] }
    : { port, protocol: protocol as DockerfilePort['protocol'] };
}

function durationFlag(
  flags: FlagValues,
  name: string,
  node: DockerfileNode,
  file: string | undefined,
  expand: WordExpander,
): number | undefined {
  const raw = flags[name];
  if (typeof raw !== 'string') return undefined;
  const ms = parseGoDurationMs(expand(raw));
  if (ms === undefined)
    failAt(
      node,
      file,
      'DOCKERFILE_BAD_FLAG',
      `invalid duration for --${name}: ${raw}`,
      'write a duration such as 30s, 1m30s or 500ms',
    );
  if (ms !== 0 && ms < 1) failAt(node, file, 'DOCKERFILE_BAD_FLAG', `${name} "${raw}" cannot be less than 1ms`);
  return ms;
}

function requireArgs(node: DockerfileNode, file: string | undefined, min: number, exact = false): void {
  const n = node.args.length;
  if (exact && n !== min) {
    failAt(
      node,
      file,
      'DOCKERFILE_ARGUMENT_COUNT',
      `${node.keyword} requires exactly ${min === 1 ? 'one argument' : `${min} arguments`}`,
    );
  }
  if (n < min) {
    failAt(
      node,
      file,
      'DOCKERFILE_MISSING_ARGUMENT',
      min === 1
        ? `${node.keyword} requires at least one argument`
        : `${node.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`,
    );
  }
}

/**
 * Turns one AST node into its typed instruction. `expand` resolves variables in the current scope.
 * ARG is left to the caller (its values depend on the scope); here it gets names and raw defaults.
 */
export function toInstruction(
  node: DockerfileNode,
  file: string | undefined,
  expand: WordExpander,
): DockerfileInstruction {
  const flags = readFlags(node, file);
  const base = { line: node.line, endLine: node.endLine, column: node.column, original: node.original };
  const str = (name: string): string | undefined => {
    const v = flags[name];
    return typeof v === 'string' ? expand(v) : undefined;
  };
  try {
    switch (node.keyword) {
      case 'FROM': {
        const args = node.args;
        if (args.length !== 1 && !(args.length === 3 && args[1].toLowerCase() === 'as')) {
          failAt(
            node,
            file,
            'DOCKERFILE_ARGUMENT_COUNT',
            'FROM requires either one or three arguments',
            'write FROM IMAGE or FROM IMAGE AS NAME',
          );
        }
        const image = expand(args[0]);
        const out: FromInstruction = { keyword: 'FROM', ...base, image };
        if (args.length === 3) out.stageName = args[2].toLowerCase();
        const platform = str('platform');
        if (platform !== undefined) out.platform = platform;
        return out;
      }
      case 'RUN': {
        if (node.args.length === 0 && node.heredocs.length === 0) requireArgs(node, file, 1);
        const mounts = ((flags.mount as string[] | undefined) ?? []).map((m) => parseMount(expand(m), node, file));
        const out: RunInstruction = {
          keyword: 'RUN',
          ...base,
          command: command(node),
          mounts,
          heredocs: node.heredocs,
        };
        const network = flags.network as string | undefined;
        if (network !== undefined) {
          if (!['default', 'none', 'host'].includes(network)) {
            failAt(
              node,
              file,
              'DOCKERFILE_BAD_FLAG',
              `unsupported network mode "${network}"`,
              'use default, none or host',
            );
          }
          out.network = network as RunInstruction['network'];
        }
        const security = flags.security as string | undefined;
        if (security !== undefined) {
          if (!['sandbox', 'insecure'].includes(security)) {
            failAt(
              node,
              file,
              'DOCKERFILE_BAD_FLAG',
              `unsupported security mode "${security}"`,
              'use sandbox or insecure',
            );
          }
          out.security = security as RunInstruction['security'];
        }
        return out;
      }
      case 'CMD':
        return { keyword: 'CMD', ...base, command: command(node) };
      case 'ENTRYPOINT':
        return { keyword: 'ENTRYPOINT', ...base, command: command(node) };
      case 'SHELL':
        if (!node.json) {
          failAt(
            node,
            file,
            'DOCKERFILE_JSON_REQUIRED',
            'SHELL requires the arguments to be in JSON form',
            'write SHELL ["/bin/sh", "-c"]',
          );
        }
        if (node.args.length === 0) requireArgs(node, file, 1);
        return { keyword: 'SHELL', ...base, shell: [...node.args] };
      case 'COPY':
      case 'ADD': {
        const heredocNames = new Map(node.heredocs.map((h) => [h.name, h]));
        if (node.args.length < 2 && !(node.args.length === 1 && heredocNames.size > 0 && isHeredocWord(node.args[0]))) {
          requireArgs(node, file, 2);
        }
        const words = node.args.length === 1 ? node.args : node.args.slice(0, -1);
        const destination = node.args.length === 1 ? '' : expand(node.args[node.args.length - 1]);
        const sources: DockerfileCopySource[] = [];
        for (const w of words) {
          const h = !node.json && isHeredocWord(w) ? findHeredoc(w, node.heredocs) : undefined;
          if (h) {
            sources.push({
              kind: 'heredoc',
              name: h.name,
              content: h.expand ? expand(h.content, { processQuotes: false }) : h.content,
            });
          } else {
            sources.push({ kind: 'path', path: expand(w) });
          }
        }
        const common = {
          ...base,
          sources,
          destination,
          link: (flags.link as boolean | undefined) ?? false,
          exclude: ((flags.exclude as string[] | undefined) ?? []).map((e) => expand(e)),
        };
        const chown = str('chown');
        const chmod = str('chmod');
        if (chmod !== undefined && !/^(0?[0-7]{3,4}|([ugoa]*[-+=][rwxXst]*,?)+)$/.test(chmod)) {
          failAt(
            node,
            file,
            'DOCKERFILE_BAD_FLAG',
            `invalid chmod parameter: ${chmod}`,
            'write an octal mode such as 0755',
          );
        }
        const extra: { chown?: string; chmod?: string } = {};
        if (chown !== undefined) extra.chown = chown;
        if (chmod !== undefined) extra.chmod = chmod;
        if (node.keyword === 'COPY') {
          const out: CopyInstruction = {
            keyword: 'COPY',
            ...common,
            ...extra,
            parents: (flags.parents as boolean | undefined) ?? false,
          };
          const from = str('from');
          if (from !== undefined) out.from = from;
          return out;
        }
        const out: AddInstruction = {
          keyword: 'ADD',
          ...common,
          ...extra,
          keepGitDir: (flags['keep-git-dir'] as boolean | undefined) ?? false,
        };
        const checksum = str('checksum');
        if (checksum !== undefined) {
          if (!/^sha(256|384|512):[0-9a-f]+$/.test(checksum)) {
            failAt(
              node,
              file,
              'DOCKERFILE_BAD_FLAG',
              `invalid checksum digest format: ${checksum}`,
              'write --checksum=sha256:<hex>',
            );
          }
          out.checksum = checksum;
        }
        if (flags.unpack !== undefined) out.unpack = flags.unpack as boolean;
        return out;
      }
      case 'ENV':
      case 'LABEL': {
        const pairs = (node.pairs ?? []).map((p) => {
          const key = expand(p.key);
          if (key === '') failAt(node, file, 'DOCKERFILE_SYNTAX', `${node.keyword} names can not be blank`);
          return { key, value: expand(p.value) };
        });
        return node.keyword === 'ENV'
          ? { keyword: 'ENV', ...base, env: pairs }
          : { keyword: 'LABEL', ...base, labels: pairs };
      }
      case 'MAINTAINER':
        requireArgs(node, file, 1);
        return { keyword: 'MAINTAINER', ...base, maintainer: node.args[0] };
      case 'ARG': {
        requireArgs(node, file, 1);
        const args = node.args.map((w) => {
          const eq = w.indexOf('=');
          const name = eq < 0 ? w : w.slice(0, eq);
          if (name === '') failAt(node, file, 'DOCKERFILE_SYNTAX', 'ARG names can not be blank');
          return eq < 0 ? { name } : { name, defaultValue: w.slice(eq + 1) };
        });
        return { keyword: 'ARG', ...base, args };
      }
      case 'EXPOSE': {
        requireArgs(node, file, 1);
        return { keyword: 'EXPOSE', ...base, ports: node.args.map((w) => parsePort(expand(w), node, file)) };
      }
      case 'VOLUME': {
        requireArgs(node, file, 1);
        const paths = node.args.map((w) => expand(w));
        if (paths.some((p) => p.trim() === ''))
          failAt(node, file, 'DOCKERFILE_SYNTAX', 'VOLUME specified can not be an empty string');
        return { keyword: 'VOLUME', ...base, paths };
      }
      case 'USER': {
        requireArgs(node, file, 1, true);
        const spec = expand(node.args[0]);
        const colon = spec.indexOf(':');
        return colon < 0
          ? { keyword: 'USER', ...base, user: spec }
          : { keyword: 'USER', ...base, user: spec.slice(0, colon), group: spec.slice(colon + 1) };
      }
      case 'WORKDIR':
        requireArgs(node, file, 1, true);
        return { keyword: 'WORKDIR', ...base, path: expand(node.args[0]) };
      case 'STOPSIGNAL':
        requireArgs(node, file, 1, true);
        return { keyword: 'STOPSIGNAL', ...base, signal: expand(node.args[0]) };
      case 'HEALTHCHECK': {
        const out: HealthcheckInstruction = { keyword: 'HEALTHCHECK', ...base };
        if (node.healthcheckType === 'NONE') {
          if (node.flags.length > 0) failAt(node, file, 'DOCKERFILE_SYNTAX', 'HEALTHCHECK NONE takes no arguments');
          return out;
        }
        out.command = command(node);
        const interval = durationFlag(flags, 'interval', node, file, expand);
        const timeout = durationFlag(flags, 'timeout', node, file, expand);
        const startPeriod = durationFlag(flags, 'start-period', node, file, expand);
        const startInterval = durationFlag(flags, 'start-interval', node, file, expand);
        if (interval !== undefined) out.intervalMs = interval;
        if (timeout !== undefined) out.timeoutMs = timeout;
        if (startPeriod !== undefined) out.startPeriodMs = startPeriod;
        if (startInterval !== undefined) out.startIntervalMs = startInterval;
        const retries = str('retries');
        if (retries !== undefined) {
          if (!/^\d+$/.test(retries))
            failAt(node, file, 'DOCKERFILE_BAD_FLAG', `--retries cannot be negative or non-numeric: ${retries}`);
          out.retries = Number(retries);
        }
        return out;
      }
      case 'ONBUILD':
        return { keyword: 'ONBUILD', ...base, trigger: node.args[0], triggerKeyword: node.trigger!.keyword };
    }
  } catch (e) {
    if (e instanceof ExpansionError) failAt(node, file, e.code, e.message);
    throw e;
  }
}

function isHeredocWord(word: string): boolean {
  return /^\d*<<-?\S/.test(word);
}

function findHeredoc(word: string, heredocs: DockerfileHeredoc[]): DockerfileHeredoc | undefined {
  const m = /^\d*<<-?(.*)$/.exec(word);
  if (!m) return undefined;
  const name = m[1].replace(/^(["'])(.*)\1$/, '$2');
  return heredocs.find((h) => h.name === name);
}

export type { DockerfileFlag };
