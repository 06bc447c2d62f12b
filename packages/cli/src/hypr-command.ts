import { Code, ConnectError } from '@connectrpc/connect';
import { type HyprClient, createHyprClient, resolveSocketPath } from '@hypr/api';
import { Command, Errors, type Interfaces } from '@oclif/core';
import { type FlagShapes, normalizeBooleans, splitAtFirstArg } from './docker-args.js';

/** A failure the CLI reports itself, with docker's exit status. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The daemon's stable error code (HyprError.code) of a ConnectError, when it sent one. */
export function hyprCode(e: unknown): string | undefined {
  return e instanceof ConnectError ? (e.metadata.get('hypr-error-code') ?? undefined) : undefined;
}

function hyprHint(e: ConnectError): string | undefined {
  const h = e.metadata.get('hypr-error-hint');
  return h ? decodeURIComponent(h) : undefined;
}

export function isDaemonUnreachable(e: unknown): boolean {
  if (!(e instanceof ConnectError)) return false;
  return (
    e.code === Code.Unavailable ||
    /ENOENT|ECONNREFUSED|EACCES|ECONNRESET|socket hang up/.test(`${e.message} ${String(e.cause)}`)
  );
}

export abstract class HyprCommand extends Command {
  /** Exit status for daemon errors: docker run/create/start use 125, other commands 1. */
  static errorExitCode = 1;

  private clientCache?: HyprClient;

  get client(): HyprClient {
    this.clientCache ??= createHyprClient();
    return this.clientCache;
  }

  /** Parses like docker: flags stop at the first argument, which with everything after it is returned as `rest`. */
  protected async parseDocker<T>(cls: {
    flags?: Interfaces.FlagInput;
  }): Promise<{ flags: T; rest: string[] }> {
    const shapes = cls.flags as unknown as FlagShapes;
    const { head, rest } = splitAtFirstArg(this.argv, shapes);
    const { flags } = await this.parse({ flags: cls.flags, strict: true, args: {} }, normalizeBooleans(head, shapes));
    return { flags: flags as T, rest };
  }

  /** Parses with `--bool=false` accepted. */
  protected async parseArgs<F, A>(cls: {
    flags?: Interfaces.FlagInput;
    args?: Interfaces.ArgInput;
    strict?: boolean;
  }): Promise<{ flags: F; args: A; argv: string[] }> {
    const argv = normalizeBooleans(this.argv, (cls.flags ?? {}) as unknown as FlagShapes);
    const out = await this.parse(
      {
        flags: cls.flags,
        args: cls.args,
        strict: cls.strict,
        baseFlags: (cls as { baseFlags?: Interfaces.FlagInput }).baseFlags,
        enableJsonFlag: (cls as { enableJsonFlag?: boolean }).enableJsonFlag,
      },
      argv,
    );
    return { flags: out.flags as F, args: out.args as A, argv: out.argv as string[] };
  }

  protected out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  protected errLine(text: string): void {
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err;
    const ctor = this.constructor as typeof HyprCommand;
    const usage = `See 'hypr ${this.id?.replace(/:/g, ' ') ?? ''} --help'.`;
    let message: string;
    let hint: string | undefined;
    let exitCode = ctor.errorExitCode;
    if (isDaemonUnreachable(err)) {
      const socket = resolveSocketPath();
      message = `Cannot connect to the HYPR daemon at unix://${socket}. Is hyprd running?`;
      hint = 'start it with `sudo hyprd` (or `systemctl start hyprd`), or point HYPR_HOST at its socket';
      exitCode = ctor.errorExitCode === 1 ? 1 : 125;
    } else if (err instanceof ConnectError) {
      message = `Error response from daemon: ${err.rawMessage}`;
      hint = hyprHint(err);
    } else if (err instanceof CliError) {
      message = err.message;
      hint = err.hint;
      exitCode = err.exitCode;
    } else if (err instanceof Errors.CLIError || (err.constructor?.name?.includes('Error') && err.oclif)) {
      // flag and argument errors: docker prints the message and the usage hint, exit 125
      process.stderr.write(`hypr: ${err.message.replace(/^Error: /, '')}\n${usage}\n`);
      return this.exit(125);
    } else {
      message = err.message;
    }
    process.stderr.write(`hypr: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
    return this.exit(exitCode);
  }
}

/** Collects a result per argument, reporting failures as docker does (all tried, status 1 if any failed). */
export async function forEachArg<T>(
  cmd: HyprCommand,
  names: readonly string[],
  fn: (name: string) => Promise<T>,
): Promise<{ results: T[]; failed: number }> {
  const results: T[] = [];
  let failed = 0;
  for (const n of names) {
    try {
      results.push(await fn(n));
    } catch (e) {
      if (isDaemonUnreachable(e)) throw e;
      failed++;
      const msg = e instanceof ConnectError ? `Error response from daemon: ${e.rawMessage}` : (e as Error).message;
      process.stderr.write(`hypr: ${msg}\n`);
    }
  }
  void cmd;
  return { results, failed };
}
