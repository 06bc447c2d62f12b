import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import type { BuildFailure, BuildResult } from '@hypr/api';
import { Args, Flags } from '@oclif/core';
import {
  BuildProgress,
  type ProgressMode,
  openOutput,
  parseBuildArgs,
  parseLabels,
  parseOutputFlag,
  readSecrets,
  resolveBuildSource,
} from '../build/index.js';
import { CliError, HyprCommand } from '../hypr-command.js';

interface BuildFlags {
  file?: string;
  tag?: string[];
  'build-arg'?: string[];
  target?: string;
  'no-cache': boolean;
  'no-cache-filter'?: string[];
  pull: boolean;
  iidfile?: string;
  quiet: boolean;
  label?: string[];
  secret?: string[];
  network?: string;
  platform?: string;
  builder?: string;
  output?: string;
  progress: string;
}

export default class Build extends HyprCommand {
  static override summary = 'Build an image from a Dockerfile';
  static override description =
    'The context (PATH, filtered by .dockerignore) is streamed to hyprd, which builds it with every RUN in a microVM. PATH "-" reads a tar context, or a Dockerfile with an empty context, from stdin.';
  static override usage = 'build [OPTIONS] PATH | -';
  static override args = {
    path: Args.string({ required: true, description: 'Build context directory, or - for stdin' }),
  };
  static override flags = {
    file: Flags.string({ char: 'f', summary: 'Name of the Dockerfile (default: "PATH/Dockerfile"; "-" reads stdin)' }),
    tag: Flags.string({
      char: 't',
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Name and optionally a tag ("name:tag"); repeatable',
    }),
    'build-arg': Flags.string({
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Set build-time variables (K=V, or K from the environment)',
    }),
    target: Flags.string({ summary: 'Set the target build stage to build' }),
    'no-cache': Flags.boolean({ summary: 'Do not use cache when building the image' }),
    'no-cache-filter': Flags.string({
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Do not cache specified stages',
    }),
    pull: Flags.boolean({ summary: 'Always attempt to pull all referenced images' }),
    iidfile: Flags.string({ summary: 'Write the image ID to the file' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress the build output and print image ID on success' }),
    label: Flags.string({ multiple: true, multipleNonGreedy: true, summary: 'Set metadata for an image (K=V)' }),
    secret: Flags.string({
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Secret to expose to the build: id=X,src=FILE or id=X,env=VAR',
    }),
    network: Flags.string({ summary: 'Networking mode for the RUN instructions: default or none', default: 'default' }),
    platform: Flags.string({ summary: "Set target platform for build (the host's only)" }),
    builder: Flags.string({
      summary: 'Step runner of RUN: vm (a microVM, the default) or native (namespaces on the host, weaker isolation)',
      options: ['vm', 'native'],
    }),
    output: Flags.string({ char: 'o', summary: 'Output destination: type=local,dest=DIR or type=tar,dest=FILE' }),
    progress: Flags.string({
      summary: 'Type of progress output',
      options: ['auto', 'plain', 'tty', 'quiet'],
      default: 'auto',
    }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parseArgs<BuildFlags, { path: string }>(Build);
    if (flags.network !== 'default' && flags.network !== 'none')
      throw new CliError(
        `network mode "${flags.network}" is not supported for builds`,
        1,
        'use --network default (the default bridge network, NAT egress) or --network none',
      );
    const output = flags.output ? parseOutputFlag(flags.output) : undefined;
    const mode: ProgressMode =
      flags.quiet || flags.progress === 'quiet'
        ? 'quiet'
        : flags.progress === 'auto'
          ? process.stderr.isTTY
            ? 'tty'
            : 'plain'
          : (flags.progress as ProgressMode);
    const source = await resolveBuildSource(args.path, flags.file);
    const secrets = await readSecrets(flags.secret ?? []);
    const buildArgs = parseBuildArgs(flags['build-arg'] ?? []);
    const labels = parseLabels(flags.label ?? []);
    const progress = new BuildProgress(mode);
    if (source.dockerfile !== undefined)
      progress.definition(source.dockerfileName, Buffer.byteLength(source.dockerfile));
    progress.contextStarted();
    async function* requests() {
      yield {
        part: {
          case: 'options' as const,
          value: {
            ...(source.dockerfile !== undefined ? { dockerfile: source.dockerfile } : {}),
            dockerfileName: source.dockerfileName,
            ...(source.dockerignore !== undefined ? { dockerignore: source.dockerignore } : {}),
            tags: flags.tag ?? [],
            buildArgs,
            target: flags.target ?? '',
            noCache: flags['no-cache'],
            noCacheFilter: flags['no-cache-filter'] ?? [],
            pull: flags.pull,
            labels,
            secrets,
            network: flags.network ?? 'default',
            platform: flags.platform ?? '',
            builder: flags.builder ?? '',
            export: output ? 'tar' : '',
          },
        },
      };
      for await (const chunk of source.context) yield { part: { case: 'context' as const, value: chunk } };
    }
    const out = output ? await openOutput(output) : undefined;
    let result: BuildResult | undefined;
    let failure: BuildFailure | undefined;
    try {
      for await (const res of this.client.images.build(requests())) {
        const e = res.event;
        if (e.case === 'result') result = e.value;
        else if (e.case === 'failure') failure = e.value;
        else if (e.case === 'export') {
          if (out && !out.sink.write(e.value)) await once(out.sink, 'drain');
        } else progress.event(e);
      }
    } catch (err) {
      progress.close();
      out?.sink.destroy();
      if (!failure) throw err;
      this.printFailure(failure);
      return this.exit(1);
    }
    if (!result) throw new CliError('the daemon ended the build without a result', 1);
    if (out) {
      out.sink.end();
      await out.done;
    }
    progress.exported(result.imageId, result.tags);
    progress.close();
    if (flags.iidfile)
      await writeFile(flags.iidfile, result.imageId).catch((e) => {
        throw new CliError(`cannot write --iidfile ${flags.iidfile}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      });
    if (flags.quiet) this.out(result.imageId);
  }

  /** BuildKit's report: the step's last output, the Dockerfile around the line, the exit code. */
  private printFailure(f: BuildFailure): void {
    if (f.code === 'BUILD_STEP_FAILED') this.errLine(`------\n${f.formatted}`);
    else this.errLine(`ERROR: failed to solve: ${f.formatted}`);
  }
}
