import { readFileSync } from 'node:fs';
import { API_VERSION } from '@hypr/api';
import { HyprCommand, isDaemonUnreachable } from '../hypr-command.js';

function cliVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}

export default class Version extends HyprCommand {
  static override summary = 'Show the HYPR version information';
  static override enableJsonFlag = true;

  async run(): Promise<{ Client: Record<string, string>; Server?: Record<string, string> }> {
    await this.parseArgs(Version);
    const client = {
      Version: cliVersion(),
      ApiVersion: API_VERSION,
      NodeVersion: process.version,
      Os: process.platform,
      Arch: process.arch,
    };
    let server: Record<string, string> | undefined;
    let unreachable: unknown;
    try {
      const v = await this.client.system.version({});
      server = { Version: v.version, ApiVersion: v.apiVersion, NodeVersion: v.nodeVersion, Os: v.os, Arch: v.arch };
    } catch (e) {
      if (!isDaemonUnreachable(e)) throw e;
      unreachable = e;
    }
    if (!this.jsonEnabled()) {
      const lines = ['Client:', ...Object.entries(client).map(([k, v]) => ` ${k}:\t${v}`)];
      if (server) lines.push('', 'Server: hyprd', ...Object.entries(server).map(([k, v]) => ` ${k}:\t${v}`));
      this.out(lines.join('\n'));
      // As docker: the client's part, then why there is no server's.
      if (unreachable) throw unreachable;
    }
    return { Client: client, ...(server ? { Server: server } : {}) };
  }
}
