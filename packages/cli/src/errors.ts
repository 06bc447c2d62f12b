// How hypr reports a failure: every error becomes a HyprError with a stable code, a message naming the
// bad value, a hint, and docker's exit status. The daemon's own errors pass through as docker prints
// them ("Error response from daemon: …"); transport failures say what is wrong with the connection.
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConnectError } from '@connectrpc/connect';
import { type DaemonConnectionProblem, daemonConnectionProblem } from '@hypr/api';
import { HyprError, isErrorCode } from '@hypr/core/errors';
import { CliError } from './cli-error.js';

export { CliError } from './cli-error.js';

/** The daemon's stable error code (HyprError.code) of a ConnectError, when it sent one. */
export function hyprCode(e: unknown): string | undefined {
  return e instanceof ConnectError ? (e.metadata.get('hypr-error-code') ?? undefined) : undefined;
}

function hyprHint(e: ConnectError): string | undefined {
  const h = e.metadata.get('hypr-error-hint');
  return h ? decodeURIComponent(h) : undefined;
}

/** True when a call failed because hyprd could not be reached (not because hyprd refused it). */
export function isDaemonUnreachable(e: unknown): boolean {
  return daemonConnectionProblem(e) !== undefined;
}

/** The name of group `gid` from /etc/group, or its number. */
function groupName(gid: number): string {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (Number(id) === gid) return name;
    }
  } catch {
    /* no /etc/group: the number will do */
  }
  return String(gid);
}

/** Which group may open the socket (or its directory, when the socket itself cannot be seen). */
function socketGroup(socket: string): string | undefined {
  for (const path of [socket, dirname(socket)]) {
    try {
      const gid = statSync(path).gid;
      return gid === 0 ? undefined : groupName(gid);
    } catch {
      /* try the directory */
    }
  }
  return undefined;
}

/** The error for a call that never reached hyprd. */
export function daemonConnectionError(problem: DaemonConnectionProblem, socket: string, exitCode: number): CliError {
  const at = `unix://${socket}`;
  switch (problem) {
    case 'not-running':
      return new CliError(
        `Cannot connect to the HYPR daemon at ${at}. Is hyprd running?`,
        exitCode,
        'start it with `sudo hyprd` (or `systemctl start hyprd`), or point HYPR_HOST at its socket',
        'DAEMON_NOT_RUNNING',
      );
    case 'permission-denied': {
      const group = socketGroup(socket);
      return new CliError(
        `permission denied while trying to connect to the HYPR daemon socket at ${at}`,
        exitCode,
        group
          ? `the socket is open to root and group ${group}: add your user with \`sudo usermod -aG ${group} $USER\` and log in again, or run hypr with sudo`
          : 'the socket is open to root only: create group hypr (`sudo groupadd hypr`) and restart hyprd, which then gives the socket to that group; add your user with `sudo usermod -aG hypr $USER` and log in again, or run hypr with sudo',
        'DAEMON_PERMISSION_DENIED',
      );
    }
    case 'connection-lost':
      return new CliError(
        `the connection to the HYPR daemon at ${at} was lost during the call`,
        exitCode,
        'hyprd stopped or crashed: see its log, and `hypr ps -a` for the state of the containers',
        'DAEMON_CONNECTION_LOST',
      );
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'file exists',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
};

/** A Node system error as Go (and so docker) words it: `open /x.tar: no such file or directory`. */
export function systemErrorText(e: NodeJS.ErrnoException): string | undefined {
  if (!e.code || !e.syscall) return undefined;
  const what = ERRNO_TEXT[e.code] ?? e.code.toLowerCase();
  return e.path ? `${e.syscall} ${e.path}: ${what}` : `${e.syscall}: ${what}`;
}

/** Any error thrown by a command, as the HyprError hypr prints. `defaultExit` is the command's status for failures. */
export function toCliError(err: unknown, socket: string, defaultExit: number): CliError {
  const problem = daemonConnectionProblem(err);
  if (problem) return daemonConnectionError(problem, socket, defaultExit === 1 ? 1 : 125);
  if (err instanceof CliError) return err;
  if (err instanceof ConnectError) {
    const code = hyprCode(err);
    return new CliError(
      `Error response from daemon: ${err.rawMessage}`,
      defaultExit,
      hyprHint(err),
      code && isErrorCode(code) ? code : 'INTERNAL',
      { cause: err },
    );
  }
  if (err instanceof HyprError) {
    const exit = (err as { exitCode?: number }).exitCode ?? defaultExit;
    return new CliError(err.format(), exit, undefined, err.code, { cause: err });
  }
  const e = err as NodeJS.ErrnoException;
  const text = e instanceof Error ? (systemErrorText(e) ?? e.message) : String(err);
  return new CliError(text, defaultExit, undefined, 'CLI_FAILED', { cause: err });
}
