import type { TopContainerResponse } from '@hypr/api';
import { renderColumns } from '../format/table.js';
import { CliError, HyprCommand } from '../hypr-command.js';

export default class Top extends HyprCommand {
  static override summary = 'Display the running processes of a container';
  static override description =
    'Without ps options, the columns are those of ps -ef (UID PID PPID C STIME TTY TIME CMD), listed by the\n' +
    "guest agent; with ps options (hypr top web -o pid,comm) the image's own ps runs with them.";
  static override usage = 'top CONTAINER [ps OPTIONS]';
  static override strict = false;
  static override enableJsonFlag = true;

  async run(): Promise<TopContainerResponse> {
    // Everything after the container belongs to ps, flags included.
    const argv = this.argv.filter((a) => a !== '--json');
    const [id, ...psArgs] = argv;
    if (!id)
      throw new CliError(
        '"hypr top" requires at least 1 argument.',
        1,
        "See 'hypr top --help'.",
        'CLI_ARGUMENT_MISSING',
      );
    const top = await this.client.containers.top({ id, psArgs });
    if (this.jsonEnabled()) return top;
    this.out(renderColumns([top.titles, ...top.processes.map((p) => p.cells)]));
    return top;
  }
}
