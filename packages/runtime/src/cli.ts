/**
 * hypr-runtime: an OCI runtime with runc's command line, for engines that call one (Podman through
 * conmon, containerd through its runc shim). Each container is a HYPR microVM; see
 * docs/oci-runtime.md.
 *
 *   hypr-runtime [--root DIR] [--log FILE] [--log-format text|json] [--systemd-cgroup] COMMAND …
 */
import { appendFileSync } from 'node:fs';
import { HyprError, suggest } from '@hypr/core/errors';
import { COMMANDS, GLOBAL_FLAGS, type GlobalOptions, globalOptions, parseFlags, requireId } from './args.js';
import { execInContainer } from './exec.js';
import {
  containerPids,
  containerState,
  createContainer,
  deleteContainer,
  features,
  freezeContainer,
  killContainer,
  startContainer,
} from './lifecycle.js';
import { DEFAULT_ROOT, OCI_VERSION } from './state.js';

export const VERSION = '0.1.0';

const USAGE = `Usage: hypr-runtime [global flags] COMMAND [flags] ID

An OCI runtime (runc's command line) that runs each container as a HYPR microVM.

Commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}`)
  .join('\n')}

Global flags:
  --root DIR            state directory (default ${DEFAULT_ROOT})
  --log FILE            where errors are logged (as well as stderr)
  --log-format FORMAT   text or json
  --systemd-cgroup      accepted; a VM has no host cgroup to place
  -v, --version         print the version`;

/** Logs an error where the engine looks: stderr, and --log in the format it asked for. */
function report(e: unknown, g: Partial<GlobalOptions>): void {
  const err = HyprError.from(e);
  process.stderr.write(`hypr-runtime: ${err.format()}\n`);
  if (!g.log) return;
  const time = new Date().toISOString();
  const line =
    g.logFormat === 'json'
      ? JSON.stringify({ level: 'error', msg: err.message, code: err.code, time })
      : `time="${time}" level=error msg=${JSON.stringify(err.message)}`;
  try {
    appendFileSync(g.log, `${line}\n`);
  } catch {
    /* stderr has it */
  }
}

export async function main(argv: string[]): Promise<number> {
  let g: Partial<GlobalOptions> = {};
  try {
    const top = parseFlags(argv, GLOBAL_FLAGS, 'hypr-runtime');
    g = globalOptions(top.values, process.env.HYPR_RUNTIME_ROOT ?? DEFAULT_ROOT);
    const [command, ...rest] = top.rest;
    if (top.values.version || command === 'version') {
      process.stdout.write(`hypr-runtime version ${VERSION}\nspec: ${OCI_VERSION}\n`);
      return 0;
    }
    if (top.values.help || !command || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command || top.values.help ? 0 : 1;
    }
    const spec = COMMANDS[command];
    if (!spec) {
      const guess = suggest(command, Object.keys(COMMANDS));
      throw new HyprError(
        'CLI_UNKNOWN_COMMAND',
        `unknown command ${JSON.stringify(command)}`,
        guess ? `did you mean ${guess}?` : `commands: ${Object.keys(COMMANDS).join(', ')}`,
      );
    }
    const { values, rest: positionals } = parseFlags(rest, spec.flags, `hypr-runtime ${command}`);
    return await run(command, values, positionals, g as GlobalOptions);
  } catch (e) {
    report(e, g);
    return 1;
  }
}

async function run(
  command: string,
  f: Record<string, string | boolean | string[] | undefined>,
  rest: string[],
  g: GlobalOptions,
): Promise<number> {
  if (command === 'features') {
    process.stdout.write(`${JSON.stringify(features(), null, 2)}\n`);
    return 0;
  }
  const id = requireId(rest, command);
  switch (command) {
    case 'create':
      await createContainer({
        root: g.root,
        id,
        bundle: (f.bundle as string | undefined) ?? process.cwd(),
        pidFile: f['pid-file'] as string | undefined,
        consoleSocket: f['console-socket'] as string | undefined,
      });
      return 0;
    case 'start':
      await startContainer(g.root, id);
      return 0;
    case 'state':
      process.stdout.write(`${JSON.stringify(containerState(g.root, id), null, 2)}\n`);
      return 0;
    case 'kill':
      await killContainer(g.root, id, rest[1]);
      return 0;
    case 'pause':
    case 'resume':
      await freezeContainer(g.root, id, command === 'pause');
      return 0;
    case 'ps': {
      const pids = containerPids(g.root, id);
      process.stdout.write(f.format === 'json' ? `${JSON.stringify(pids)}\n` : `PID\n${pids.join('\n')}\n`);
      return 0;
    }
    case 'delete':
      await deleteContainer(g.root, id, f.force === true);
      return 0;
    case 'exec':
      return await execInContainer({
        root: g.root,
        id,
        detach: f.detach === true,
        pidFile: f['pid-file'] as string | undefined,
        flags: {
          processFile: f.process as string | undefined,
          args: rest.slice(1),
          cwd: f.cwd as string | undefined,
          env: (f.env as string[] | undefined) ?? [],
          user: f.user as string | undefined,
          tty: f.tty === true || !!f['console-socket'],
        },
      });
  }
  return 1;
}
