import { CliError, HyprCommand, forEachArg } from '../hypr-command.js';

export default class Wait extends HyprCommand {
  static override summary = 'Block until one or more containers stop, then print their exit codes';
  static override usage = 'wait CONTAINER [CONTAINER...]';
  static override strict = false;

  async run(): Promise<number[]> {
    const { argv } = await this.parseArgs<Record<string, never>, Record<string, never>>(Wait);
    if (!argv.length) throw new CliError('"hypr wait" requires at least 1 argument.', 1);
    const { results, failed } = await forEachArg(this, argv, async (id) => {
      let code = 0;
      for await (const m of this.client.containers.wait({ id })) if (!m.waiting) code = m.exitCode;
      this.out(String(code));
      return code;
    });
    if (failed) this.exit(1);
    return results;
  }
}
