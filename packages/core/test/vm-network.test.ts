import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runVm } from '../src/vmm/guest-vm.js';
import { assertVmPrerequisites, makeBusyboxRootfs } from './helpers/vm.js';

// Everything here lives in a network namespace the test makes and deletes: no traffic leaves it.
const ns = `hypr-t-${randomBytes(3).toString('hex')}`;
const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args]);
let rootfs: string;

beforeAll(async () => {
  assertVmPrerequisites();
  rootfs = await makeBusyboxRootfs();
  execFileSync('ip', ['netns', 'add', ns]);
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', 'br0', 'type', 'bridge');
  ip('addr', 'add', '10.231.0.1/24', 'dev', 'br0');
  ip('link', 'set', 'br0', 'up');
  ip('tuntap', 'add', 'dev', 'tap0', 'mode', 'tap');
  ip('link', 'set', 'tap0', 'master', 'br0');
  ip('link', 'set', 'tap0', 'up');
});
afterAll(async () => {
  execFileSync('ip', ['netns', 'del', ns]);
  await rm(rootfs, { recursive: true, force: true });
});

describe('guest networking configured by kestrel', () => {
  test('the NIC gets its address and default route, reaches the gateway; hosts and resolv.conf are written', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      netns: ns,
      nics: [{ tap: 'tap0', mac: '02:42:0a:e7:00:05', address: '10.231.0.5/24', gateway: '10.231.0.1' }],
      dns: ['10.231.0.1'],
      dnsSearch: ['example.internal'],
      hosts: [{ name: 'db', address: '10.231.0.9' }],
      hostname: 'web1',
      argv: [
        'sh',
        '-c',
        'ip -4 -o addr show | grep -v " lo " | awk "{print \\$4}"; ip route | grep default; ping -c 1 -W 5 10.231.0.1 >/dev/null && echo ping-ok; cat /etc/resolv.conf; grep -E "web1|db" /etc/hosts',
      ],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        '10.231.0.5/24',
        'default via 10.231.0.1 dev eth0 ',
        'ping-ok',
        'search example.internal',
        'nameserver 10.231.0.1',
        '10.231.0.5\tweb1',
        '10.231.0.9\tdb',
        '',
      ].join('\n'),
    );
  });

  test('without a NIC the guest still has loopback and an /etc/hosts naming itself', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      hostname: 'solo',
      argv: [
        'sh',
        '-c',
        'ping -c 1 -W 5 127.0.0.1 >/dev/null && echo lo-ok; cat /etc/hosts; [ -e /etc/resolv.conf ] || echo no-resolv',
      ],
    });
    // /etc/hosts as docker writes it: localhost, the IPv6 names, the container's own line.
    expect(r.stdout).toBe(
      'lo-ok\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n' +
        'ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n127.0.1.1\tsolo\nno-resolv\n',
    );
  });
});
