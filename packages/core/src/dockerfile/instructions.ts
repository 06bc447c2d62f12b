/**
 * Phase 4 of the parse: AST node → typed instruction, with words expanded by the caller's
 * expander (which knows the ARG/ENV scope at that point). Which words are expanded follows
 * BuildKit: FROM, ADD, COPY, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG defaults and
 * the values of flags; RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD are kept as written
 * (the shell in the container expands them). Errors BuildKit raises here (its instructions.Parse, at
 * build time) rather than in its parser are raised here too: a bare HEALTHCHECK, for one.
 */
import { ExpansionError } from './errors.js';
import { type FlagValues, durationFlag, failAt, readFlags, requireArgs } from './flags.js';
import type {
  AddInstruction,
  CopyInstruction,
  DockerfileCommand,
  DockerfileCopySource,
  DockerfileInstruction,
  DockerfilePort,
  FromInstruction,
  HealthcheckInstruction,
  RunInstruction,
  WordExpander,
} from './instruction-types.js';
import type { DockerfileHeredoc } from './lexer.js';
import type { DockerfileFlag, DockerfileNode } from './parser.js';
import { parseMount } from './run-mount.js';

export * from './instruction-types.js';
export { parseGoDurationMs, readFlags } from './flags.js';

/** What every keyword's reader gets. */
interface Input {
  node: DockerfileNode;
  file: string | undefined;
  expand: WordExpander;
  flags: FlagValues;
  base: { line: number; endLine: number; column: number; original: string };
  /** A string flag's value, expanded. */
  str: (name: string) => string | undefined;
}

function command(node: DockerfileNode): DockerfileCommand {
  return node.json ? { form: 'exec', argv: [...node.args] } : { form: 'shell', script: node.args[0] ?? '' };
}

function parsePort(word: string, node: DockerfileNode, file: string | undefined): DockerfilePort {
  // EXPOSE ip:host:container/proto is accepted by docker; only the container part matters.
  const spec = word.includes(':') ? word.slice(word.lastIndexOf(':') + 1) : word;
  const m = /^(\d+)(?:-(\d+))?(?:\/([A-Za-z]+))?$/.exec(spec);
  const port = m ? Number(m[1]) : Number.NaN;
  const endPort = m?.[2] ? Number(m[2]) : undefined;
  const protocol = (m?.[3] ?? 'tcp').toLowerCase();
  const badRange = endPort !== undefined && (endPort < port || endPort > 65535);
  if (!m || port < 1 || port > 65535 || badRange || !['tcp', 'udp', 'sctp'].includes(protocol)) {
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

function fromInstruction({ node, file, expand, base, str }: Input): FromInstruction {
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
  const out: FromInstruction = { keyword: 'FROM', ...base, image: expand(args[0]) };
  if (args.length === 3) out.stageName = args[2].toLowerCase();
  const platform = str('platform');
  if (platform !== undefined) out.platform = platform;
  return out;
}

function runInstruction({ node, file, expand, flags, base }: Input): RunInstruction {
  if (node.args.length === 0 && node.heredocs.length === 0) requireArgs(node, file, 1);
  const mounts = ((flags.mount as string[] | undefined) ?? []).map((m) => parseMount(expand(m), node, file));
  const out: RunInstruction = { keyword: 'RUN', ...base, command: command(node), mounts, heredocs: node.heredocs };
  const network = flags.network as string | undefined;
  if (network !== undefined) {
    if (!['default', 'none', 'host'].includes(network)) {
      failAt(node, file, 'DOCKERFILE_BAD_FLAG', `unsupported network mode "${network}"`, 'use default, none or host');
    }
    out.network = network as RunInstruction['network'];
  }
  const security = flags.security as string | undefined;
  if (security !== undefined) {
    if (!['sandbox', 'insecure'].includes(security)) {
      failAt(node, file, 'DOCKERFILE_BAD_FLAG', `unsupported security mode "${security}"`, 'use sandbox or insecure');
    }
    out.security = security as RunInstruction['security'];
  }
  return out;
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

function copySources(node: DockerfileNode, expand: WordExpander): DockerfileCopySource[] {
  const words = node.args.length === 1 ? node.args : node.args.slice(0, -1);
  return words.map((w): DockerfileCopySource => {
    const h = !node.json && isHeredocWord(w) ? findHeredoc(w, node.heredocs) : undefined;
    if (!h) return { kind: 'path', path: expand(w) };
    return {
      kind: 'heredoc',
      name: h.name,
      content: h.expand ? expand(h.content, { processQuotes: false }) : h.content,
    };
  });
}

function copyInstruction(input: Input): CopyInstruction | AddInstruction {
  const { node, file, expand, flags, base, str } = input;
  const heredocNames = new Set(node.heredocs.map((h) => h.name));
  if (node.args.length < 2 && !(node.args.length === 1 && heredocNames.size > 0 && isHeredocWord(node.args[0]))) {
    requireArgs(node, file, 2);
  }
  const common = {
    ...base,
    sources: copySources(node, expand),
    destination: node.args.length === 1 ? '' : expand(node.args[node.args.length - 1]),
    link: (flags.link as boolean | undefined) ?? false,
    exclude: ((flags.exclude as string[] | undefined) ?? []).map((e) => expand(e)),
  };
  const chown = str('chown');
  const chmod = str('chmod');
  if (chmod !== undefined && !/^(0?[0-7]{3,4}|([ugoa]*[-+=][rwxXst]*,?)+)$/.test(chmod)) {
    failAt(node, file, 'DOCKERFILE_BAD_FLAG', `invalid chmod parameter: ${chmod}`, 'write an octal mode such as 0755');
  }
  const extra: { chown?: string; chmod?: string } = {};
  if (chown !== undefined) extra.chown = chown;
  if (chmod !== undefined) extra.chmod = chmod;
  if (node.keyword === 'COPY') {
    const out: CopyInstruction = { keyword: 'COPY', ...common, ...extra, parents: (flags.parents as boolean) ?? false };
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

/** HEALTHCHECK as BuildKit's instructions.parseHealthcheck: its parser lets any type word (or none) through. */
function healthcheckInstruction({ node, file, expand, flags, base, str }: Input): HealthcheckInstruction {
  const out: HealthcheckInstruction = { keyword: 'HEALTHCHECK', ...base };
  const type = node.healthcheckType;
  if (type === undefined)
    failAt(node, file, 'DOCKERFILE_MISSING_ARGUMENT', 'HEALTHCHECK requires at least one argument');
  if (type === 'NONE') {
    if (node.args.length > 0 || node.flags.length > 0) {
      failAt(node, file, 'DOCKERFILE_SYNTAX', 'HEALTHCHECK NONE takes no arguments');
    }
    return out;
  }
  if (type !== 'CMD') {
    failAt(
      node,
      file,
      'DOCKERFILE_SYNTAX',
      `Unknown type ${JSON.stringify(node.healthcheckTypeRaw ?? type)} in HEALTHCHECK (try CMD)`,
      'write HEALTHCHECK CMD … or HEALTHCHECK NONE',
    );
  }
  if (node.args.length === 0)
    failAt(node, file, 'DOCKERFILE_MISSING_ARGUMENT', 'Missing command after HEALTHCHECK CMD');
  out.command = command(node);
  const durations = [
    ['interval', 'intervalMs'],
    ['timeout', 'timeoutMs'],
    ['start-period', 'startPeriodMs'],
    ['start-interval', 'startIntervalMs'],
  ] as const;
  for (const [flag, key] of durations) {
    const ms = durationFlag(flags, flag, node, file, expand);
    if (ms !== undefined) out[key] = ms;
  }
  const retries = str('retries');
  if (retries !== undefined) {
    if (!/^\d+$/.test(retries)) {
      failAt(node, file, 'DOCKERFILE_BAD_FLAG', `--retries cannot be negative or non-numeric: ${retries}`);
    }
    out.retries = Number(retries);
  }
  return out;
}

function keyValueInstruction({ node, file, expand, base }: Input): DockerfileInstruction {
  const pairs = (node.pairs ?? []).map((p) => {
    const key = expand(p.key);
    if (key === '') failAt(node, file, 'DOCKERFILE_SYNTAX', `${node.keyword} names can not be blank`);
    return { key, value: expand(p.value) };
  });
  return node.keyword === 'ENV'
    ? { keyword: 'ENV', ...base, env: pairs }
    : { keyword: 'LABEL', ...base, labels: pairs };
}

function argInstruction({ node, file, base }: Input): DockerfileInstruction {
  requireArgs(node, file, 1);
  const args = node.args.map((w) => {
    const eq = w.indexOf('=');
    const name = eq < 0 ? w : w.slice(0, eq);
    if (name === '') failAt(node, file, 'DOCKERFILE_SYNTAX', 'ARG names can not be blank');
    return eq < 0 ? { name } : { name, defaultValue: w.slice(eq + 1) };
  });
  return { keyword: 'ARG', ...base, args };
}

/** The single-word instructions: USER, WORKDIR, STOPSIGNAL, MAINTAINER. */
function wordInstruction({ node, file, expand, base }: Input): DockerfileInstruction {
  if (node.keyword === 'MAINTAINER') {
    requireArgs(node, file, 1);
    return { keyword: 'MAINTAINER', ...base, maintainer: node.args[0] };
  }
  requireArgs(node, file, 1, true);
  const word = expand(node.args[0]);
  if (node.keyword === 'WORKDIR') return { keyword: 'WORKDIR', ...base, path: word };
  if (node.keyword === 'STOPSIGNAL') return { keyword: 'STOPSIGNAL', ...base, signal: word };
  const colon = word.indexOf(':');
  return colon < 0
    ? { keyword: 'USER', ...base, user: word }
    : { keyword: 'USER', ...base, user: word.slice(0, colon), group: word.slice(colon + 1) };
}

function listInstruction({ node, file, expand, base }: Input): DockerfileInstruction {
  requireArgs(node, file, 1);
  if (node.keyword === 'EXPOSE') {
    return { keyword: 'EXPOSE', ...base, ports: node.args.map((w) => parsePort(expand(w), node, file)) };
  }
  const paths = node.args.map((w) => expand(w));
  if (paths.some((p) => p.trim() === '')) {
    failAt(node, file, 'DOCKERFILE_SYNTAX', 'VOLUME specified can not be an empty string');
  }
  return { keyword: 'VOLUME', ...base, paths };
}

function commandInstruction({ node, file, base }: Input): DockerfileInstruction {
  if (node.keyword === 'CMD') return { keyword: 'CMD', ...base, command: command(node) };
  if (node.keyword === 'ENTRYPOINT') return { keyword: 'ENTRYPOINT', ...base, command: command(node) };
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
}

const READERS: Record<DockerfileNode['keyword'], (input: Input) => DockerfileInstruction> = {
  FROM: fromInstruction,
  RUN: runInstruction,
  CMD: commandInstruction,
  ENTRYPOINT: commandInstruction,
  SHELL: commandInstruction,
  COPY: copyInstruction,
  ADD: copyInstruction,
  ENV: keyValueInstruction,
  LABEL: keyValueInstruction,
  ARG: argInstruction,
  EXPOSE: listInstruction,
  VOLUME: listInstruction,
  USER: wordInstruction,
  WORKDIR: wordInstruction,
  STOPSIGNAL: wordInstruction,
  MAINTAINER: wordInstruction,
  HEALTHCHECK: healthcheckInstruction,
  ONBUILD: ({ node, base }) => ({
    keyword: 'ONBUILD',
    ...base,
    trigger: node.args[0],
    triggerKeyword: node.trigger!.keyword,
  }),
};

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
  const input: Input = {
    node,
    file,
    expand,
    flags,
    base: { line: node.line, endLine: node.endLine, column: node.column, original: node.original },
    str: (name) => {
      const v = flags[name];
      return typeof v === 'string' ? expand(v) : undefined;
    },
  };
  try {
    return READERS[node.keyword](input);
  } catch (e) {
    if (e instanceof ExpansionError) failAt(node, file, e.code, e.message);
    throw e;
  }
}

export type { DockerfileFlag };
