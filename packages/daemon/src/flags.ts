/**
 * hyprd's command line: parsed and checked in one place, so a bad flag or value is one clear line
 * naming it and what is valid (HyprError, exit 125), never a stack trace or a silently ignored value.
 */
import { parseArgs } from 'node:util';
import { HyprError, editDistance } from '@hypr/core';
import { SERVICE_KINDS, type ServiceKind } from './service/index.js';

export const USAGE = `Usage: hyprd [OPTIONS]

Run the HYPR daemon in the foreground.

Options:
  --data-root DIR     state directory (default $HYPR_HOME, /var/lib/hypr as root)
  -H, --host SOCKET   socket to listen on, unix:///path (default $HYPR_HOST, /run/hypr/hyprd.sock as root)
  -l, --log-level LEVEL   trace, debug, info, warn, error, fatal (default info)
  --print-service KIND    print a systemd unit or launchd plist that starts this hyprd, then exit
                          (systemd or launchd; see docs/install.md)
  -v, --version       print the version
  -h, --help          show this help`;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const OPTIONS = {
  'data-root': { type: 'string' },
  host: { type: 'string', short: 'H' },
  'log-level': { type: 'string', short: 'l' },
  'print-service': { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

const FLAG_NAMES = ['--data-root', '-H, --host', '-l, --log-level', '--print-service', '-v, --version', '-h, --help'];

export interface HyprdFlags {
  dataRoot?: string;
  host?: string;
  logLevel: LogLevel;
  /** --print-service: print this service file and exit. */
  printService?: ServiceKind;
  version: boolean;
  help: boolean;
}

/** `verbose` → undefined, `infos` → `info`: the closest of `choices` within two edits. */
function closest(value: string, choices: readonly string[]): string | undefined {
  let best: { choice: string; d: number } | undefined;
  for (const choice of choices) {
    const d = editDistance(value.toLowerCase(), choice);
    if (d <= 2 && (!best || d < best.d)) best = { choice, d };
  }
  return best?.choice;
}

/** Checks a log level from --log-level or HYPR_LOG_LEVEL (`from` names which). */
export function parseLogLevel(value: string, from: string): LogLevel {
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  const near = closest(level, LOG_LEVELS);
  throw new HyprError(
    'DAEMON_FLAG_INVALID',
    `invalid ${from} "${value}": valid levels are ${LOG_LEVELS.join(', ')}`,
    near ? `did you mean ${near}?` : undefined,
  );
}

/** --print-service's value: systemd or launchd. */
function parseServiceKind(value: string): ServiceKind {
  const kind = value.trim().toLowerCase();
  if ((SERVICE_KINDS as readonly string[]).includes(kind)) return kind as ServiceKind;
  const near = closest(kind, SERVICE_KINDS);
  throw new HyprError(
    'DAEMON_FLAG_INVALID',
    `invalid --print-service "${value}": hyprd prints ${SERVICE_KINDS.join(' or ')}`,
    near ? `did you mean ${near}?` : 'hyprd --print-service systemd (Linux) or launchd (macOS)',
  );
}

/** Node's parseArgs errors, reworded: which flag, and what hyprd accepts. */
function flagError(e: unknown): HyprError {
  const text = (e as Error).message;
  const unknown = /Unknown option '([^']+)'/.exec(text);
  if (unknown)
    return new HyprError(
      'DAEMON_FLAG_UNKNOWN',
      `unknown flag: ${unknown[1]}`,
      `hyprd takes ${FLAG_NAMES.join(', ')} (see hyprd --help)`,
    );
  const missing = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(text);
  if (missing) return new HyprError('DAEMON_FLAG_INVALID', `flag needs a value: ${missing[1]}`, 'see hyprd --help');
  const positional = /Unexpected argument '([^']+)'/.exec(text);
  if (positional)
    return new HyprError(
      'DAEMON_FLAG_INVALID',
      `unexpected argument: ${positional[1]}`,
      'hyprd takes flags only (see hyprd --help)',
    );
  return new HyprError('DAEMON_FLAG_INVALID', text.split('\n')[0], 'see hyprd --help');
}

/** Parses hyprd's argv; the log level falls back to HYPR_LOG_LEVEL, then info. */
export function parseHyprdFlags(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): HyprdFlags {
  let values: {
    'data-root'?: string;
    host?: string;
    'log-level'?: string;
    'print-service'?: string;
    version?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw flagError(e);
  }
  for (const key of ['data-root', 'host'] as const)
    if (values[key] !== undefined && !values[key].trim())
      throw new HyprError('DAEMON_FLAG_INVALID', `--${key} needs a non-empty value`, 'see hyprd --help');
  const logLevel =
    values['log-level'] !== undefined
      ? parseLogLevel(values['log-level'], '--log-level')
      : env.HYPR_LOG_LEVEL
        ? parseLogLevel(env.HYPR_LOG_LEVEL, 'HYPR_LOG_LEVEL')
        : 'info';
  return {
    dataRoot: values['data-root'],
    host: values.host,
    logLevel,
    ...(values['print-service'] !== undefined ? { printService: parseServiceKind(values['print-service']) } : {}),
    version: values.version ?? false,
    help: values.help ?? false,
  };
}
