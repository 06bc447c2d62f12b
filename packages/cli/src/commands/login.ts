import { createInterface } from 'node:readline/promises';
import { Args, Flags } from '@oclif/core';
import { CliError, HyprCommand } from '../hypr-command.js';

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export default class Login extends HyprCommand {
  static override summary = 'Log in to a registry';
  static override usage = 'login [OPTIONS] [SERVER]';
  static override args = { server: Args.string({ required: false, description: 'Registry host (default docker.io)' }) };
  static override flags = {
    username: Flags.string({ char: 'u', summary: 'Username' }),
    password: Flags.string({ char: 'p', summary: 'Password' }),
    'password-stdin': Flags.boolean({ summary: 'Take the password from stdin' }),
  };

  async run(): Promise<{ status: string }> {
    const { flags, args } = await this.parseArgs<
      { username?: string; password?: string; 'password-stdin': boolean },
      { server?: string }
    >(Login);
    const registry = (args.server ?? 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    let { username, password } = flags;
    if (flags['password-stdin']) {
      if (password) throw new CliError('--password and --password-stdin are mutually exclusive', 1);
      if (!username) throw new CliError('Must provide --username with --password-stdin', 1);
      password = (await readAll(process.stdin)).replace(/\r?\n$/, '');
    } else if (password) {
      process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    }
    if (!username || !password) {
      if (!process.stdin.isTTY) throw new CliError('Cannot perform an interactive login from a non TTY device', 1);
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        username ||= (await rl.question('Username: ')).trim();
        password ||= await rl.question('Password: ');
      } finally {
        rl.close();
      }
    }
    const r = await this.client.images.login({ registry, username, password });
    this.out(r.status);
    return { status: r.status };
  }
}
