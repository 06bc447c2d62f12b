/**
 * `hyprd --print-service systemd|launchd`: a systemd unit or a launchd plist that starts this very
 * hyprd (the node binary and script running now, or the single executable) with the data root and
 * socket it would use, so nobody edits paths by hand.
 */
import { homedir } from 'node:os';

export const SERVICE_KINDS = ['systemd', 'launchd'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

export interface ServiceTarget {
  /** The command line that starts hyprd: [node, /abs/bin/hyprd.js] or [/abs/hyprd] (single executable). */
  command: string[];
  dataRoot: string;
  /** unix:///path/hyprd.sock */
  host: string;
  /** HYPR_* settings hyprd was printed with (HYPR_GUEST_DIR, HYPR_VMM …), kept in the service. */
  env: Record<string, string>;
  /** PATH for the service: where QEMU, virtiofsd and mkfs.ext4 are found. */
  path: string;
}

/** Variables that change what hyprd does and belong in its service; the rest of the environment does not. */
const KEPT_ENV = [
  'HYPR_ACCEL',
  'HYPR_GUEST_DIR',
  'HYPR_KERNEL',
  'HYPR_KESTREL',
  'HYPR_LOG_LEVEL',
  'HYPR_RUNTIME',
  'HYPR_SHARE',
  'HYPR_VIRTIOFSD',
  'HYPR_VMM',
];

export function keptEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of KEPT_ENV) if (env[key]) kept[key] = env[key] as string;
  return kept;
}

/** One systemd word: quoted when it holds a space or a quote; `%` and `$` escaped (systemd.service(5)). */
function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\;]/.test(escaped) ? `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : escaped;
}

export function systemdUnit(t: ServiceTarget): string {
  const exec = [...t.command, '--data-root', t.dataRoot, '-H', t.host].map(systemdWord).join(' ');
  const env = Object.entries({ PATH: t.path, ...t.env }).map(([k, v]) => `Environment=${systemdWord(`${k}=${v}`)}`);
  return `# hyprd as a systemd service, printed by \`hyprd --print-service systemd\`. Install (as root):
#   hyprd --print-service systemd > /etc/systemd/system/hyprd.service
#   systemctl daemon-reload && systemctl enable --now hyprd
[Unit]
Description=HYPR daemon: Docker-compatible containers as microVMs
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${exec}
${env.join('\n')}
# Containers run under their own shims and outlive a restart of hyprd: never kill them with it.
KillMode=process
TimeoutStopSec=30
Restart=on-failure
RestartSec=2
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function launchdPlist(t: ServiceTarget, home: string = homedir()): string {
  const args = [...t.command, '--data-root', t.dataRoot, '-H', t.host].map((a) => `    <string>${xml(a)}</string>`);
  const env = Object.entries({ PATH: t.path, ...t.env }).map(
    ([k, v]) => `    <key>${xml(k)}</key>\n    <string>${xml(v)}</string>`,
  );
  const log = xml(`${home}/Library/Logs/hyprd.log`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!--
  hyprd as a launchd job for the current user, printed by hyprd (see docs/install.md). Save it as
  ~/Library/LaunchAgents/com.hypr.hyprd.plist, then:
    launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/com.hypr.hyprd.plist
-->
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>com.hypr.hyprd</string>
  <key>ProgramArguments</key>
  <array>
${args.join('\n')}
  </array>
  <key>EnvironmentVariables</key>
  <dict>
${env.join('\n')}
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <!-- Containers run under their own shims and outlive a restart of hyprd. -->
  <key>AbandonProcessGroup</key>
  <true/>
  <key>StandardOutPath</key>
  <string>${log}</string>
  <key>StandardErrorPath</key>
  <string>${log}</string>
</dict>
</plist>
`;
}

export function serviceFile(kind: ServiceKind, t: ServiceTarget): string {
  return kind === 'systemd' ? systemdUnit(t) : launchdPlist(t);
}
