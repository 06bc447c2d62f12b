/** What the printed service starts: this hyprd, with the paths it would use, all absolute. */
import { realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isSea } from 'node:sea';
import { resolvePaths } from '@hypr/core';
import { type ServiceKind, type ServiceTarget, keptEnv } from './service-unit.js';

/** systemd's and launchd's own PATHs, with the places distributions and Homebrew put QEMU and e2fsprogs. */
const SERVICE_PATH: Record<ServiceKind, string> = {
  systemd: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  launchd:
    '/opt/homebrew/bin:/opt/homebrew/opt/e2fsprogs/sbin:/usr/local/bin:/usr/local/opt/e2fsprogs/sbin:/usr/bin:/bin:/usr/sbin:/sbin',
};

export interface ServiceTargetInput {
  kind: ServiceKind;
  dataRoot?: string;
  host?: string;
  env?: NodeJS.ProcessEnv;
  /** The running node (or the single executable) and hyprd's script; process.execPath and argv[1] by default. */
  execPath?: string;
  script?: string;
  singleExecutable?: boolean;
}

/** `unix:///abs/path` from `unix:///x`, `unix://rel` or a bare path. */
function absoluteHost(host: string): string {
  const path = host.startsWith('unix://') ? host.slice('unix://'.length) : host;
  return `unix://${isAbsolute(path) ? path : resolve(path)}`;
}

export function serviceTarget(input: ServiceTargetInput): ServiceTarget {
  const env = input.env ?? process.env;
  const execPath = input.execPath ?? process.execPath;
  const single = input.singleExecutable ?? isSea();
  const script = input.script ?? process.argv[1];
  const command = single ? [execPath] : [execPath, realpathSync(script)];
  // A systemd unit runs hyprd as root: root's locations unless given; launchd runs it as this user.
  const paths = resolvePaths(
    input.dataRoot ? { ...env, HYPR_HOME: input.dataRoot } : env,
    input.kind === 'systemd' || process.getuid?.() === 0,
  );
  const host = input.host ?? env.HYPR_HOST;
  return {
    command,
    dataRoot: paths.data,
    host: host ? absoluteHost(host) : `unix://${paths.socket}`,
    env: keptEnv(env),
    path: SERVICE_PATH[input.kind],
  };
}
