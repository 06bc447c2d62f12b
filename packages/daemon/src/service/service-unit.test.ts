import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { parseHyprdFlags } from '../flags.js';
import { launchdPlist, serviceTarget, systemdUnit } from './index.js';

const target = {
  command: ['/usr/bin/node', '/usr/lib/node_modules/@hypr/daemon/bin/hyprd.js'],
  dataRoot: '/var/lib/hypr',
  host: 'unix:///run/hypr/hyprd.sock',
  env: { HYPR_GUEST_DIR: '/opt/hypr guest' },
  path: '/usr/sbin:/usr/bin',
};

/** The key=value lines of one [section] of a unit file. */
function section(unit: string, name: string): string[] {
  const body = unit.split(/^\[/m).find((s) => s.startsWith(`${name}]`)) ?? '';
  return body
    .split('\n')
    .slice(1)
    .filter((l) => l && !l.startsWith('#'));
}

// systemd-analyze comes with systemd, which scripts/install-deps.sh installs: on Linux this always runs.
const linux = process.platform === 'linux';

test('the systemd unit starts this hyprd with absolute paths and keeps HYPR_* settings', () => {
  const unit = systemdUnit(target);
  expect(section(unit, 'Service')).toEqual([
    'Type=simple',
    'ExecStart=/usr/bin/node /usr/lib/node_modules/@hypr/daemon/bin/hyprd.js --data-root /var/lib/hypr -H unix:///run/hypr/hyprd.sock',
    'Environment=PATH=/usr/sbin:/usr/bin',
    'Environment="HYPR_GUEST_DIR=/opt/hypr guest"',
    'KillMode=process',
    'TimeoutStopSec=30',
    'Restart=on-failure',
    'RestartSec=2',
    'LimitNOFILE=1048576',
  ]);
  expect(section(unit, 'Install')).toEqual(['WantedBy=multi-user.target']);
});

test('systemd words: spaces quoted, % and $ escaped', () => {
  const unit = systemdUnit({ ...target, dataRoot: '/srv/my data/100%$x' });
  expect(unit).toContain('--data-root "/srv/my data/100%%$$x" -H');
});

test.skipIf(!linux)('systemd-analyze verify accepts the unit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-unit-'));
  try {
    const file = join(dir, 'hyprd.service');
    // verify checks that ExecStart's program exists: point it at this node.
    writeFileSync(file, systemdUnit({ ...target, command: [process.execPath, '/x/hyprd.js'] }));
    execFileSync('systemd-analyze', ['verify', file], { stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the launchd plist lists the same arguments, XML-escaped', () => {
  const plist = launchdPlist({ ...target, dataRoot: '/Users/a&b/hypr' }, '/Users/a&b');
  expect(plist).toContain(
    [
      '    <string>/usr/bin/node</string>',
      '    <string>/usr/lib/node_modules/@hypr/daemon/bin/hyprd.js</string>',
      '    <string>--data-root</string>',
      '    <string>/Users/a&amp;b/hypr</string>',
      '    <string>-H</string>',
      '    <string>unix:///run/hypr/hyprd.sock</string>',
    ].join('\n'),
  );
  expect(plist).toContain('<key>HYPR_GUEST_DIR</key>\n    <string>/opt/hypr guest</string>');
  expect(plist).toContain('<string>/Users/a&amp;b/Library/Logs/hyprd.log</string>');
  // An XML comment may not hold "--".
  for (const comment of plist.match(/<!--[\s\S]*?-->/g) ?? []) expect(comment.slice(4, -3)).not.toContain('--');
});

test('the target: root locations for systemd, a relative socket made absolute, the single executable alone', () => {
  const t = serviceTarget({ kind: 'systemd', env: {}, execPath: '/usr/bin/node', script: import.meta.filename });
  expect(t).toMatchObject({
    command: ['/usr/bin/node', realpathSync(import.meta.filename)],
    dataRoot: '/var/lib/hypr',
    host: 'unix:///run/hypr/hyprd.sock',
  });
  const sea = serviceTarget({
    kind: 'systemd',
    env: { HYPR_HOST: 'unix://rel.sock', HYPR_VMM: 'qemu', SECRET: 'x' },
    execPath: '/usr/local/bin/hyprd',
    singleExecutable: true,
    dataRoot: '/d',
  });
  expect(sea).toMatchObject({
    command: ['/usr/local/bin/hyprd'],
    dataRoot: '/d',
    host: `unix://${join(process.cwd(), 'rel.sock')}`,
    env: { HYPR_VMM: 'qemu' },
  });
});

test('hyprd --print-service systemd prints the unit of the hyprd that ran', () => {
  const bin = join(import.meta.dirname, '../../bin/hyprd.js');
  const out = execFileSync(process.execPath, [bin, '--print-service', 'systemd', '--data-root', '/srv/hypr'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  expect(out).toContain(
    `ExecStart=${process.execPath} ${realpathSync(bin)} --data-root /srv/hypr -H unix:///run/hypr/hyprd.sock`,
  );
});

test('--print-service takes systemd or launchd; a near miss gets a did-you-mean', () => {
  expect(parseHyprdFlags(['--print-service', 'launchd'], {}).printService).toBe('launchd');
  expect(() => parseHyprdFlags(['--print-service', 'systemdd'], {})).toThrow(
    expect.objectContaining({ code: 'DAEMON_FLAG_INVALID', hint: 'did you mean systemd?' }),
  );
});
