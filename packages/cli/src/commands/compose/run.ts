import { Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags, composeFlags } from '../../compose-command.js';
import { CliError } from '../../hypr-command.js';
import { attachAndStart } from '../run.js';

interface RunFlags extends ComposeGlobalFlags {
  detach: boolean;
  rm: boolean;
  env?: string[];
  'no-deps': boolean;
  name?: string;
  entrypoint?: string;
  user?: string;
  workdir?: string;
  'no-TTY': boolean;
  interactive: boolean;
  'service-ports': boolean;
}

export default class ComposeRun extends ComposeCommand {
  static override summary = 'Run a one-off command on a service';
  static override usage = 'compose run [OPTIONS] SERVICE [COMMAND] [ARGS...]';
  static override strict = false;
  static override flags = {
    ...composeFlags,
    detach: Flags.boolean({ char: 'd', summary: 'Run container in background and print container ID' }),
    rm: Flags.boolean({ summary: 'Automatically remove the container when it exits' }),
    env: Flags.string({ char: 'e', multiple: true, multipleNonGreedy: true, summary: 'Set environment variables' }),
    'no-deps': Flags.boolean({ summary: "Don't start linked services" }),
    name: Flags.string({ summary: 'Assign a name to the container' }),
    entrypoint: Flags.string({ summary: 'Override the entrypoint of the image' }),
    user: Flags.string({ char: 'u', summary: 'Run as specified username or uid' }),
    workdir: Flags.string({ char: 'w', summary: 'Working directory inside the container' }),
    'no-TTY': Flags.boolean({ char: 'T', summary: 'Disable pseudo-TTY allocation (default: auto-detected)' }),
    interactive: Flags.boolean({ char: 'i', summary: 'Keep STDIN open even if not attached', default: true }),
    'service-ports': Flags.boolean({ summary: "Run command with all service's ports enabled and mapped to the host" }),
  };

  async run(): Promise<void> {
    const { flags, rest } = await this.parseDocker<RunFlags>(ComposeRun);
    const [service, ...command] = rest;
    if (!service) throw new CliError('"hypr compose run" requires at least 1 argument.', 1);
    const { message: spec, project } = this.loadStack(flags);
    const tty = !flags.detach && !flags['no-TTY'] && !!process.stdin.isTTY && !!process.stdout.isTTY;
    const interactive = !flags.detach && flags.interactive;
    let created: { id: string; name: string } | undefined;
    await this.follow(
      this.client.stacks.run({
        spec,
        projectDir: project.workingDir,
        configFiles: project.files ?? [],
        service,
        ...(command.length ? { command: { words: command } } : {}),
        ...(flags.entrypoint !== undefined ? { entrypoint: { words: [flags.entrypoint] } } : {}),
        env: (flags.env ?? []).flatMap(envEntry),
        noDeps: flags['no-deps'],
        rm: flags.rm,
        servicePorts: flags['service-ports'],
        name: flags.name,
        user: flags.user,
        workdir: flags.workdir,
        tty,
        interactive,
      }),
      (e) => {
        if (e.id) created = { id: e.id, name: e.name };
      },
    );
    if (!created) throw new CliError(`hyprd did not create a container for service "${service}"`, 1);
    if (flags.detach) {
      await this.client.containers.start({ id: created.id });
      this.out(created.name);
      return;
    }
    const exitCode = await attachAndStart(this, created.id, { sigProxy: true, interactive, tty });
    this.exit(exitCode);
  }

  /** Only hyprd's progress of the dependencies: the one-off container's own creation is not shown. */
  protected override printEvent(e: Parameters<ComposeCommand['printEvent']>[0]): void {
    if (!e.id) super.printEvent(e);
  }
}

/** `-e KEY=VALUE`, or `-e KEY` to take KEY from this shell (dropped when unset, as docker does). */
function envEntry(text: string): string[] {
  if (text.includes('=')) return [text];
  const value = process.env[text];
  return value === undefined ? [] : [`${text}=${value}`];
}
