import type { StackContainer } from '@hypr/api';
import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags, parseScale } from '../../compose-command.js';
import { followStackLogs } from '../../compose-logs.js';
import { CliError } from '../../hypr-command.js';

interface UpFlags extends ComposeGlobalFlags {
  detach: boolean;
  build: boolean;
  'no-build': boolean;
  pull?: string;
  'force-recreate': boolean;
  'no-recreate': boolean;
  'remove-orphans': boolean;
  'no-start': boolean;
  'no-deps': boolean;
  wait: boolean;
  'wait-timeout': number;
  'abort-on-container-exit': boolean;
  'exit-code-from'?: string;
  'no-log-prefix': boolean;
  timestamps: boolean;
  timeout?: number;
  'no-color': boolean;
  scale?: string[];
}

export default class ComposeUp extends ComposeCommand {
  static override summary = 'Create and start containers';
  static override usage = 'compose up [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false, description: 'Services to start' }) };
  static override flags = {
    detach: Flags.boolean({ char: 'd', summary: 'Detached mode: Run containers in the background' }),
    build: Flags.boolean({ summary: 'Build images before starting containers', exclusive: ['no-build'] }),
    'no-build': Flags.boolean({ summary: "Don't build an image, even if it's policy" }),
    pull: Flags.string({ summary: 'Pull image before running', options: ['always', 'missing', 'never'] }),
    'force-recreate': Flags.boolean({
      summary: "Recreate containers even if their configuration and image haven't changed",
      exclusive: ['no-recreate'],
    }),
    'no-recreate': Flags.boolean({ summary: "If containers already exist, don't recreate them" }),
    'remove-orphans': Flags.boolean({ summary: 'Remove containers for services not defined in the Compose file' }),
    'no-start': Flags.boolean({ summary: "Don't start the services after creating them" }),
    'no-deps': Flags.boolean({ summary: "Don't start linked services" }),
    wait: Flags.boolean({ summary: 'Wait for services to be running|healthy. Implies detached mode.' }),
    'wait-timeout': Flags.integer({
      summary: 'Maximum duration in seconds to wait for the project to be running|healthy',
      default: 0,
    }),
    'abort-on-container-exit': Flags.boolean({
      summary: 'Stops all containers if any container was stopped. Incompatible with -d',
      exclusive: ['detach'],
    }),
    'exit-code-from': Flags.string({
      summary: 'Return the exit code of the selected service container. Implies --abort-on-container-exit',
      exclusive: ['detach'],
    }),
    'no-log-prefix': Flags.boolean({ summary: "Don't print prefix in logs" }),
    timestamps: Flags.boolean({ summary: 'Show timestamps' }),
    timeout: Flags.integer({ char: 't', summary: 'Use this timeout in seconds for container shutdown' }),
    'no-color': Flags.boolean({ summary: 'Produce monochrome output' }),
    scale: Flags.string({
      multiple: true,
      summary: 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.',
      helpValue: 'SERVICE=NUM',
    }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseCompose<UpFlags>(ComposeUp);
    const { spec, message, project } = this.loadStack(flags, argv);
    if (flags['exit-code-from'] && !spec.services[flags['exit-code-from']])
      throw new CliError(`no such service: ${flags['exit-code-from']}`, 1);
    const detach = flags.detach || flags.wait;
    await this.follow(
      this.client.stacks.up({
        spec: message,
        projectDir: project.workingDir,
        configFiles: project.files ?? [],
        services: argv,
        build: flags.build ? 'always' : flags['no-build'] ? 'never' : '',
        forceRecreate: flags['force-recreate'],
        noRecreate: flags['no-recreate'],
        removeOrphans: flags['remove-orphans'],
        noStart: flags['no-start'],
        noDeps: flags['no-deps'],
        wait: flags.wait,
        waitTimeoutSeconds: flags['wait-timeout'],
        pull: flags.pull ?? '',
        scale: parseScale(flags.scale ?? []),
      }),
    );
    if (detach || flags['no-start']) return;
    await this.attached(spec.name, argv, flags);
  }

  /** Attached mode: interleaved logs until every container stops; Ctrl-C stops the stack, a second one kills it. */
  private async attached(project: string, services: string[], flags: UpFlags): Promise<void> {
    const { containers } = await this.client.stacks.containers({ name: project, services, all: true });
    const abort = new AbortController();
    const abortOnExit = flags['abort-on-container-exit'] || !!flags['exit-code-from'];
    let stopping: Promise<void> | undefined;
    const stopAll = (action: 'stop' | 'kill') =>
      this.follow(
        this.client.stacks.control({ name: project, action, services: [], timeoutSeconds: flags.timeout }),
      ).catch((e) => this.errLine(`hypr: ${(e as Error).message}`));
    let interrupts = 0;
    const onInt = () => {
      interrupts++;
      if (interrupts === 1) {
        this.errLine('Gracefully stopping... (press Ctrl+C again to force)');
        stopping = stopAll('stop');
      } else {
        stopping = stopAll('kill');
      }
    };
    process.on('SIGINT', onInt);
    let firstExited: StackContainer | undefined;
    this.errLine(`Attaching to ${containers.map((c) => c.name).join(', ')}`);
    try {
      await followStackLogs(this.client, containers, {
        follow: true,
        timestamps: flags.timestamps,
        tail: -1,
        prefix: !flags['no-log-prefix'],
        colour: !flags['no-color'] && process.stdout.isTTY === true,
        signal: abort.signal,
        onEnd: (c) => {
          void this.reportExit(c);
          if (abortOnExit && !firstExited && !stopping) {
            firstExited = c;
            this.errLine('Aborting on container exit...');
            stopping = stopAll('stop').then(() => abort.abort());
          }
        },
      });
      await stopping;
    } finally {
      process.off('SIGINT', onInt);
    }
    const from = flags['exit-code-from'];
    if (from || abortOnExit) {
      const { containers: after } = await this.client.stacks.containers({ name: project, services: [], all: true });
      const c = from ? after.find((x) => x.service === from) : after.find((x) => x.id === firstExited?.id);
      if (c?.exitCode) this.exit(c.exitCode);
    } else if (interrupts) this.exit(130);
  }

  private async reportExit(c: StackContainer): Promise<void> {
    const r = await this.client.stacks.containers({ name: c.labels['com.docker.compose.project'] ?? '', all: true });
    const now = r.containers.find((x) => x.id === c.id);
    if (now && now.state === 'exited') this.errLine(`${c.name} exited with code ${now.exitCode}`);
  }
}
