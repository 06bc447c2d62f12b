import { type HyprClient, createHyprClient, resolveSocketPath } from '@hypr/api';
import { Command, Errors, type Interfaces } from '@oclif/core';
import { type FlagShapes, normalizeBooleans, splitAtFirstArg } from './docker-args.js';
import { CliError, isDaemonUnreachable, toCliError } from './errors.js';

export { CliError, hyprCode, isDaemonUnreachable } from './errors.js';

export abstract class HyprCommand extends Command {
  /** Exit status for daemon errors: docker run/create/start use 125, other commands 1. */
  static errorExitCode = 1;

  private clientCache?: HyprClient;

  get client(): HyprClient {
    try {
      this.clientCache ??= createHyprClient();
    } catch (e) {
      // HYPR_HOST or -H is not a unix socket
      throw new CliError(
        (e as Error).message,
        1,
        '-H and HYPR_HOST take unix:///path/to/hyprd.sock',
        'CLI_FLAG_INVALID',
      );
    }
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
    if (err instanceof Errors.CLIError || (err.constructor?.name?.includes('Error') && err.oclif)) {
      // flag and argument errors: docker prints the message and the usage hint, exit 125
      const usage = `See 'hypr ${this.id?.replace(/:/g, ' ') ?? ''} --help'.`;
      process.stderr.write(`hypr: ${err.message.replace(/^Error: /, '')}\n${usage}\n`);
      return this.exit(125);
    }
    const ctor = this.constructor as typeof HyprCommand;
    let socket = '';
    try {
      socket = resolveSocketPath();
    } catch {
      /* a bad HYPR_HOST: the error says so */
    }
    const e = toCliError(err, socket, ctor.errorExitCode);
    process.stderr.write(`hypr: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
    return this.exit(e.exitCode);
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
      process.stderr.write(`hypr: ${toCliError(e, '', 1).message}\n`);
    }
  }
  void cmd;
  return { results, failed };
}
