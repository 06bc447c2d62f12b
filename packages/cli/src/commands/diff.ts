import type { ContainerChange } from '@hypr/api';
import { Args } from '@oclif/core';
import { HyprCommand } from '../hypr-command.js';

export default class Diff extends HyprCommand {
  static override summary = "Inspect changes to files or directories on a container's filesystem";
  static override description = "A: added, C: changed, D: deleted, from the container's writable layer.";
  static override usage = 'diff CONTAINER';
  static override enableJsonFlag = true;
  static override args = { container: Args.string({ required: true }) };

  async run(): Promise<ContainerChange[]> {
    const { args } = await this.parseArgs<Record<string, never>, { container: string }>(Diff);
    const { changes } = await this.client.containers.diff({ id: args.container });
    if (this.jsonEnabled()) return changes;
    for (const c of changes) this.out(`${c.kind} ${c.path}`);
    return changes;
  }
}
