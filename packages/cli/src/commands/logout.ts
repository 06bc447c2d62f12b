import { Args } from '@oclif/core';
import { HyprCommand } from '../hypr-command.js';

export default class Logout extends HyprCommand {
  static override summary = 'Log out from a registry';
  static override usage = 'logout [SERVER]';
  static override args = { server: Args.string({ required: false }) };

  async run(): Promise<{ removed: boolean }> {
    const { args } = await this.parseArgs<Record<string, never>, { server?: string }>(Logout);
    const registry = (args.server ?? 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const { removed } = await this.client.images.logout({ registry });
    this.out(removed ? `Removing login credentials for ${registry}` : `Not logged in to ${registry}`);
    return { removed };
  }
}
