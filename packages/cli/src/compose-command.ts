/**
 * What every `hypr compose` command shares: the global flags (-f, -p, --profile, --env-file,
 * --project-directory), loading and converting the files with @hypr/core/compose, and printing the
 * daemon's progress events as docker compose does (`Container p-web-1  Started`, on stderr).
 */
import type { StackEvent, StackSpec as StackSpecMessage } from '@hypr/api';
import {
  type ComposeProject,
  ComposeUnsupportedError,
  ComposeValidationError,
  type StackSpec,
  convertToStack,
  loadCompose,
} from '@hypr/core/compose';
import { Flags, type Interfaces } from '@oclif/core';
import { stackSpecToProto } from './compose-spec.js';
import { CliError, HyprCommand } from './hypr-command.js';

export const composeFlags = {
  // -f and -p go before the command (`compose -f a.yml up`): bin/run.js rewrites them to --file and
  // --project-name after it, where -f may mean --follow (logs) and -p --publish (run).
  file: Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    summary: 'Compose configuration files (-f)',
    helpGroup: 'GLOBAL',
  }),
  'project-name': Flags.string({ summary: 'Project name (-p)', helpGroup: 'GLOBAL' }),
  profile: Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    summary: 'Specify a profile to enable',
    helpGroup: 'GLOBAL',
  }),
  'env-file': Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    summary: 'Specify an alternate environment file',
    helpGroup: 'GLOBAL',
  }),
  'project-directory': Flags.string({
    summary: 'Specify an alternate working directory (default: the path of the first compose file)',
    helpGroup: 'GLOBAL',
  }),
};

export interface ComposeGlobalFlags {
  file?: string[];
  'project-name'?: string;
  profile?: string[];
  'env-file'?: string[];
  'project-directory'?: string;
}

export interface LoadedStack {
  project: ComposeProject;
  spec: StackSpec;
  /** The spec as the API carries it. */
  message: StackSpecMessage;
}

export abstract class ComposeCommand extends HyprCommand {
  static override baseFlags = composeFlags;

  /** Loads and converts the project; compose errors become CLI errors listing each key path. */
  protected loadStack(flags: ComposeGlobalFlags, services: string[] = []): LoadedStack {
    let project: ComposeProject;
    try {
      project = loadCompose({
        workingDir: process.cwd(),
        files: flags.file,
        projectDir: flags['project-directory'],
        env: process.env,
        envFiles: flags['env-file'],
        profiles: flags.profile,
        services,
        projectName: flags['project-name'],
      });
    } catch (e) {
      throw composeCliError(e);
    }
    let spec: StackSpec;
    try {
      spec = withBuildPullDefault(project, convertToStack(project));
    } catch (e) {
      throw composeCliError(e);
    }
    return { project, spec, message: stackSpecToProto(spec) };
  }

  /**
   * The project name, for commands that work on what the daemon recorded: from the files when
   * they load, else `-p` alone (as `docker compose -p x down` in any directory).
   */
  protected projectOf(flags: ComposeGlobalFlags): { name: string; loaded?: LoadedStack } {
    try {
      const loaded = this.loadStack(flags);
      return { name: loaded.spec.name, loaded };
    } catch (e) {
      if (flags['project-name'] && !flags.file?.length) return { name: flags['project-name'] };
      throw e;
    }
  }

  /** Prints one progress event as docker compose does. */
  protected printEvent(e: StackEvent): void {
    if (e.warning) {
      this.errLine(`WARN[0000] ${e.message}`);
      return;
    }
    if (!e.kind) {
      if (e.message) this.errLine(e.message);
      return;
    }
    this.errLine(` ${e.kind} ${e.name}  ${e.status}${e.message ? `  ${e.message}` : ''}`);
  }

  /** Runs a streaming stack call, printing its events. */
  protected async follow(events: AsyncIterable<StackEvent>, onEvent?: (e: StackEvent) => void): Promise<void> {
    for await (const e of events) {
      this.printEvent(e);
      onEvent?.(e);
    }
  }

  protected async parseCompose<F extends ComposeGlobalFlags, A = Record<string, never>>(cls: {
    flags?: Interfaces.FlagInput;
    args?: Interfaces.ArgInput;
    strict?: boolean;
  }): Promise<{ flags: F; args: A; argv: string[] }> {
    return this.parseArgs<F, A>({ ...cls, baseFlags: composeFlags } as Parameters<HyprCommand['parseArgs']>[0]);
  }
}

/**
 * A `build:` service without `pull_policy` is built when its image is missing (or with `--build`), as
 * docker compose does: only `pull_policy: build` rebuilds it on every `up`.
 */
export function withBuildPullDefault(project: ComposeProject, spec: StackSpec): StackSpec {
  for (const [name, svc] of Object.entries(spec.services))
    if (svc.build && project.services[name]?.pull_policy === undefined) svc.pullPolicy = 'missing';
  return spec;
}

/** `--scale web=3 --scale db=1` as a map; a malformed one is an error naming it. */
export function parseScale(list: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of list) {
    const m = /^([^=]+)=(\d+)$/.exec(item);
    if (!m) throw new CliError(`invalid --scale ${item}: expected SERVICE=NUM`, 1);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** A compose load or convert failure as the CLI prints it: `compose.yaml:14 services.web.ports[0]: …`. */
export function composeCliError(e: unknown): Error {
  if (e instanceof ComposeValidationError) return new CliError(e.format(), 1);
  if (e instanceof ComposeUnsupportedError) return new CliError(e.message, 1, e.hint);
  if (e instanceof Error && 'code' in e && 'hint' in e)
    return new CliError(e.message, 1, (e as { hint?: string }).hint);
  return e as Error;
}
