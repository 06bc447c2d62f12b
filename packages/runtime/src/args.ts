/**
 * runc's command line as engines write it: global flags, a command, its flags, then positionals.
 * Flags take one or two dashes, values as `--flag value` or `--flag=value`; parsing stops at the
 * first positional or `--` (`exec ID CMD ARGS…` keeps the program's own flags). Flags engines pass
 * that mean nothing to a VM (`--no-pivot`, `--no-new-keyring` …) are accepted and ignored.
 */
import { HyprError, suggest } from '@hypr/core/errors';

type FlagSpec = { kind: 'string' | 'bool' | 'list'; short?: string };
type FlagSpecs = Record<string, FlagSpec>;
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

const str: FlagSpec = { kind: 'string' };
const bool: FlagSpec = { kind: 'bool' };
const list: FlagSpec = { kind: 'list' };

export const GLOBAL_FLAGS: FlagSpecs = {
  root: str,
  log: str,
  'log-format': str,
  'systemd-cgroup': bool,
  debug: bool,
  criu: str,
  rootless: str,
  help: { kind: 'bool', short: 'h' },
  version: { kind: 'bool', short: 'v' },
};

const CREATE_FLAGS: FlagSpecs = {
  bundle: { kind: 'string', short: 'b' },
  'pid-file': str,
  'console-socket': str,
  'no-pivot': bool,
  'no-new-keyring': bool,
  'preserve-fds': str,
};

export const COMMANDS: Record<string, { flags: FlagSpecs; usage: string }> = {
  create: { flags: CREATE_FLAGS, usage: 'create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] ID' },
  start: { flags: {}, usage: 'start ID' },
  state: { flags: {}, usage: 'state ID' },
  kill: { flags: { all: { kind: 'bool', short: 'a' } }, usage: 'kill [--all] ID [SIGNAL]' },
  delete: { flags: { force: { kind: 'bool', short: 'f' } }, usage: 'delete [--force] ID' },
  exec: {
    flags: {
      process: { kind: 'string', short: 'p' },
      detach: { kind: 'bool', short: 'd' },
      'pid-file': str,
      'console-socket': str,
      tty: { kind: 'bool', short: 't' },
      cwd: str,
      env: { kind: 'list', short: 'e' },
      user: { kind: 'string', short: 'u' },
      'additional-gids': { kind: 'list', short: 'g' },
      cap: { kind: 'list', short: 'c' },
      'preserve-fds': str,
      'process-label': str,
      apparmor: str,
      'no-new-privs': bool,
      'ignore-paused': bool,
      cgroup: list,
    },
    usage: 'exec [--process FILE] [--detach] [--pid-file FILE] ID [COMMAND ARG...]',
  },
  pause: { flags: {}, usage: 'pause ID' },
  resume: { flags: {}, usage: 'resume ID' },
  ps: { flags: { format: { kind: 'string', short: 'f' } }, usage: 'ps [--format table|json] ID' },
  features: { flags: {}, usage: 'features' },
};

export interface ParsedFlags {
  values: FlagValues;
  rest: string[];
}

/** Parses flags from the front of argv until the first positional; `where` names the command in errors. */
export function parseFlags(argv: string[], specs: FlagSpecs, where: string): ParsedFlags {
  const values: FlagValues = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const key = specs[name] ? name : Object.keys(specs).find((k) => specs[k].short === name);
    if (!key) {
      const guess = suggest(name, Object.keys(specs));
      throw new HyprError(
        'CLI_FLAG_INVALID',
        `unknown flag ${arg} for ${where}`,
        guess
          ? `did you mean --${guess}?`
          : `flags of ${where}: ${
              Object.keys(specs)
                .map((k) => `--${k}`)
                .join(' ') || 'none'
            }`,
      );
    }
    const spec = specs[key];
    if (spec.kind === 'bool') {
      const v = eq >= 0 ? body.slice(eq + 1) : 'true';
      if (v !== 'true' && v !== 'false')
        throw new HyprError('CLI_FLAG_INVALID', `${arg}: give true or false`, `for example --${key}=true`);
      values[key] = v === 'true';
      continue;
    }
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else {
      if (i + 1 >= argv.length)
        throw new HyprError('CLI_FLAG_INVALID', `flag --${key} of ${where} needs a value`, `--${key} VALUE`);
      value = argv[++i];
    }
    if (spec.kind === 'list') values[key] = [...((values[key] as string[] | undefined) ?? []), value];
    else values[key] = value;
  }
  return { values, rest: argv.slice(i) };
}

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  systemdCgroup: boolean;
}

export function globalOptions(values: FlagValues, defaultRoot: string): GlobalOptions {
  const format = (values['log-format'] as string | undefined) ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new HyprError('CLI_FLAG_INVALID', `--log-format ${JSON.stringify(format)}: give text or json`);
  return {
    root: (values.root as string | undefined) ?? defaultRoot,
    log: values.log as string | undefined,
    logFormat: format,
    systemdCgroup: values['systemd-cgroup'] === true,
  };
}

/** The container id, the one positional every command but `features` takes first. */
export function requireId(rest: string[], command: string): string {
  const id = rest[0];
  if (!id)
    throw new HyprError(
      'CLI_ARGUMENT_MISSING',
      `${command} needs a container id`,
      `usage: hypr-runtime ${COMMANDS[command].usage}`,
    );
  return id;
}
