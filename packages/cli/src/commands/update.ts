import { Flags } from '@oclif/core';
import { parseRestartPolicy } from '../docker-args.js';
import { CliError, HyprCommand, forEachArg } from '../hypr-command.js';
import { forFlag, memoryBytes, parseCpus } from '../run-flags.js';

export default class Update extends HyprCommand {
  static override summary = 'Update configuration of one or more containers (-m and --cpus on stopped ones)';
  static override usage = 'update [OPTIONS] CONTAINER [CONTAINER...]';
  static override strict = false;
  static override flags = {
    restart: Flags.string({ summary: 'Restart policy to apply when a container exits' }),
    memory: Flags.string({ char: 'm', summary: 'Memory limit (the size of the VM)' }),
    cpus: Flags.string({ summary: 'Number of CPUs (vCPUs of the VM)' }),
  };

  async run(): Promise<string[]> {
    const { flags, argv } = await this.parseArgs<{ restart?: string; memory?: string; cpus?: string }, never>(Update);
    if (!argv.length)
      throw new CliError('"hypr update" requires at least 1 argument.', 1, undefined, 'CLI_ARGUMENT_MISSING');
    if (flags.restart === undefined && flags.memory === undefined && flags.cpus === undefined)
      throw new CliError(
        'you must provide one or more flags when using this command',
        1,
        undefined,
        'CLI_ARGUMENT_MISSING',
      );
    const restart =
      flags.restart === undefined
        ? undefined
        : forFlag('--restart', flags.restart, () => parseRestartPolicy(flags.restart as string));
    const memory = flags.memory === undefined ? undefined : memoryBytes(flags.memory);
    const cpus = flags.cpus === undefined ? undefined : parseCpus(flags.cpus);
    const { results, failed } = await forEachArg(this, argv, async (id) => {
      const r = await this.client.containers.update({ id, restartPolicy: restart, memoryBytes: memory, cpus });
      for (const w of r.warnings) process.stderr.write(`WARNING: ${w}\n`);
      this.out(id);
      return id;
    });
    if (failed) this.exit(1);
    return results;
  }
}
