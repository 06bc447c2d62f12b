import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  Ipam,
  applyNetworkRules,
  connectEndpoint,
  createTap,
  deleteBridge,
  deleteTap,
  ensureBridge,
  listLinks,
  listRuleChains,
  readDefaultRouteDevice,
  readLink,
  removeAllHyprRules,
  removeNetworkRules,
} from '../src/network/index.js';
import { type Child, spawnChild } from '../src/process.js';
import { containers, images, openState } from '../src/state/index.js';
import { TestNamespaces, inNs, sh, statusInNs } from './helpers/netns.js';
import { TEST_IMAGE_ROW } from './helpers/state-rows.js';

// The topology, all in namespaces made here: `host` plays the machine running hyprd (bridges, NAT);
// `outside` plays the internet behind the host's default route (an HTTP server, and no route back to
// any VM subnet, so a reply only arrives through masquerade); c1 and c2 are "VMs" on network A,
// c3 on network B, c4 on the internal network I: each a namespace whose veth is a port of the bridge.
const spaces = new TestNamespaces();
let host: string;
let outside: string;
const children: Child[] = [];
let www: string;

const A = {
  id: 'aaaaaaaaaaaa1',
  bridge: 'hypr-testa',
  subnet: '10.201.0.0/24',
  gateway: '10.201.0.1',
  internal: false,
};
const B = {
  id: 'bbbbbbbbbbbb2',
  bridge: 'hypr-testb',
  subnet: '10.202.0.0/24',
  gateway: '10.202.0.1',
  internal: false,
};
const I = { id: 'cccccccccccc3', bridge: 'hypr-testi', subnet: '10.203.0.0/24', gateway: '10.203.0.1', internal: true };

function attach(role: string, net: typeof A, address: string): string {
  const ns = spaces.add(role);
  spaces.link(host, `v-${role}`, ns, 'eth0', { aMaster: net.bridge, bAddress: `${address}/24`, bGateway: net.gateway });
  return ns;
}

/** Whether process `pid` has TAP `name` open (its tun file descriptor's fdinfo names the device). */
function holdsTap(pid: number | undefined, name: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fdinfo`).some((fd) =>
      readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').includes(`iff:\t${name}\n`),
    );
  } catch {
    return false;
  }
}

async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
  expect(ok()).toBe(true);
}

const reach = (ns: string, addr: string) => statusInNs(ns, 'busybox', 'ping', '-c', '1', '-W', '1', addr) === 0;

beforeAll(async () => {
  host = spaces.add('host');
  outside = spaces.add('out');
  spaces.link(host, 'eth0', outside, 'eth0', { aAddress: '198.51.100.1/24', bAddress: '198.51.100.2/24' });
  sh('ip', ['-n', host, 'route', 'add', 'default', 'via', '198.51.100.2']);
  www = await mkdtemp(join(tmpdir(), 'hypr-www-'));
  await writeFile(join(www, 'index.html'), 'hello from outside\n');
  const httpd = spawnChild('ip', ['netns', 'exec', outside, 'busybox', 'httpd', '-f', '-p', '8080', '-h', www]);
  children.push(httpd);
  for (let i = 0; i < 50 && !inNs(outside, 'busybox', 'netstat', '-ltn').includes(':8080 '); i++)
    await new Promise((r) => setTimeout(r, 100));
  for (const n of [A, B, I]) {
    await ensureBridge({ ...n, name: n.bridge, netns: host });
    await applyNetworkRules(n, { netns: host });
  }
});

afterAll(async () => {
  for (const c of children) await c.stop();
  spaces.cleanup();
  await rm(www, { recursive: true, force: true });
});

describe('bridges and TAPs', () => {
  test('a bridge carries the gateway address and is up; ensuring it again changes nothing', async () => {
    await ensureBridge({ name: A.bridge, gateway: A.gateway, subnet: A.subnet, netns: host });
    const addrs = JSON.parse(sh('ip', ['-n', host, '-j', '-4', 'addr', 'show', 'dev', A.bridge]));
    expect(addrs[0].addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`)).toEqual([
      '10.201.0.1/24',
    ]);
    expect((await readLink(A.bridge, { netns: host }))?.linkinfo?.info_kind).toBe('bridge');
    expect(await readDefaultRouteDevice({ netns: host })).toBe('eth0');
  });

  test('a TAP is attached to its bridge; deleting twice is fine and leaves no device', async () => {
    await createTap({ name: 'hyprt0123456789', bridge: A.bridge, netns: host });
    await createTap({ name: 'hyprt0123456789', bridge: A.bridge, netns: host });
    const tap = await readLink('hyprt0123456789', { netns: host });
    expect(tap).toMatchObject({ master: A.bridge, linkinfo: { info_data: { type: 'tap' } } });
    await deleteTap('hyprt0123456789', { netns: host });
    await deleteTap('hyprt0123456789', { netns: host });
    expect(await listLinks('hyprt', { netns: host })).toEqual([]);
  });

  test('a TAP with an MTU is made, attached to its bridge and up in one step; a second start makes it again', async () => {
    for (let i = 0; i < 2; i++) {
      await createTap({ name: 'hyprtmtu', bridge: B.bridge, mtu: 1400, netns: host });
      expect(await readLink('hyprtmtu', { netns: host })).toMatchObject({
        mtu: 1400,
        master: B.bridge,
        flags: expect.arrayContaining(['UP']),
        linkinfo: { info_data: { type: 'tap' } },
      });
      await deleteTap('hyprtmtu', { netns: host });
      expect(await readLink('hyprtmtu', { netns: host })).toBeUndefined();
    }
  });

  test('a TAP a hypervisor still holds (a restarted daemon under a running VM) is adopted', async () => {
    sh('ip', ['-n', host, 'tuntap', 'add', 'dev', 'hyprtheld', 'mode', 'tap']);
    const qemu = spawnChild('ip', [
      ...['netns', 'exec', host, 'qemu-system-x86_64', '-M', 'none', '-nodefaults', '-display', 'none'],
      ...['-netdev', 'tap,id=n0,ifname=hyprtheld,script=no,downscript=no'],
    ]);
    try {
      await waitUntil(() => holdsTap(qemu.process.pid, 'hyprtheld'));
      await createTap({ name: 'hyprtheld', bridge: A.bridge, netns: host });
      expect(await readLink('hyprtheld', { netns: host })).toMatchObject({
        master: A.bridge,
        flags: expect.arrayContaining(['UP']),
      });
      // While it is held it cannot be deleted: the daemon waits for the hypervisor to let go.
      await expect(deleteTap('hyprtheld', { netns: host })).rejects.toMatchObject({ code: 'NETWORK_TAP_FAILED' });
    } finally {
      await qemu.stop();
    }
    await deleteTap('hyprtheld', { netns: host });
    expect(await readLink('hyprtheld', { netns: host })).toBeUndefined();
  });

  test('a device named like the TAP that is not a TAP is a clear error, and is left alone', async () => {
    sh('ip', ['-n', host, 'link', 'add', 'hyprtveth', 'type', 'veth', 'peer', 'name', 'hyprtveth2']);
    try {
      await expect(createTap({ name: 'hyprtveth', bridge: A.bridge, netns: host })).rejects.toMatchObject({
        code: 'NETWORK_DEVICE_CONFLICT',
        message: 'a device named hyprtveth exists and is not a TAP',
      });
      const link = await readLink('hyprtveth', { netns: host });
      expect(link?.linkinfo?.info_kind).toBe('veth');
      expect(link?.master).toBeUndefined();
    } finally {
      sh('ip', ['-n', host, 'link', 'del', 'hyprtveth']);
    }
  });

  test('a TAP on a missing bridge fails with a clear error and leaves no device', async () => {
    await expect(createTap({ name: 'hyprtbad', bridge: 'hypr-nosuch', netns: host })).rejects.toMatchObject({
      code: 'NETWORK_TAP_FAILED',
      message: expect.stringMatching(/^cannot set up TAP hyprtbad on bridge hypr-nosuch: .*"hypr-nosuch"/),
    });
    expect(await readLink('hyprtbad', { netns: host })).toBeUndefined();
  });

  test('a bridge made here, or found with no address or a stale one, ends up with only the gateway address, up', async () => {
    const net = { name: 'hypr-teste', gateway: '10.204.0.1', subnet: '10.204.0.0/24', netns: host };
    const addrsOf = () =>
      JSON.parse(sh('ip', ['-n', host, '-j', '-4', 'addr', 'show', 'dev', net.name]))[0].addr_info.map(
        (a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`,
      );
    try {
      await ensureBridge(net);
      expect(addrsOf()).toEqual(['10.204.0.1/24']);
      sh('ip', ['-n', host, 'addr', 'flush', 'dev', net.name]);
      sh('ip', ['-n', host, 'link', 'set', 'dev', net.name, 'down']);
      await ensureBridge({ ...net, mtu: 1400 });
      expect(addrsOf()).toEqual(['10.204.0.1/24']);
      sh('ip', ['-n', host, 'addr', 'add', '10.205.0.1/24', 'dev', net.name]);
      await ensureBridge(net);
      expect(addrsOf()).toEqual(['10.204.0.1/24']);
      expect(await readLink(net.name, { netns: host })).toMatchObject({
        mtu: 1400,
        flags: expect.arrayContaining(['UP']),
      });
    } finally {
      await deleteBridge(net.name, { netns: host });
    }
  });

  test('a bridge that cannot be set up is a clear error and is not left behind', async () => {
    await expect(
      ensureBridge({ name: 'hypr-testf', gateway: '10.206.0.1', subnet: '10.206.0.0/24', mtu: 70_000, netns: host }),
    ).rejects.toMatchObject({
      code: 'NETWORK_BRIDGE_FAILED',
      message: expect.stringMatching(/^cannot set up bridge hypr-testf \(10\.206\.0\.0\/24\): .*mtu/i),
    });
    expect(await readLink('hypr-testf', { netns: host })).toBeUndefined();
  });

  test('a bridge name held by another kind of device is refused', async () => {
    sh('ip', ['-n', host, 'link', 'add', 'hypr-dummy', 'type', 'veth', 'peer', 'name', 'hypr-dummy2']);
    try {
      await expect(
        ensureBridge({ name: 'hypr-dummy', gateway: '10.209.0.1', subnet: '10.209.0.0/24', netns: host }),
      ).rejects.toMatchObject({ code: 'NETWORK_DEVICE_CONFLICT' });
    } finally {
      sh('ip', ['-n', host, 'link', 'del', 'hypr-dummy']);
    }
  });
});

test('connecting a container to a network whose bridge is missing leaves no lease and no TAP', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hypr-ep-'));
  const state = openState(join(dir, 'state.db'));
  try {
    const ipam = new Ipam(state);
    await expect(
      ipam
        .createNetwork({ name: 'n0', subnet: '10.211.0.0/24', hostRoutes: [] })
        .then(() => connectEndpoint(ipam, 'n0', { containerId: 'nosuch', netns: host })),
    ).rejects.toMatchObject({ code: 'NETWORK_CONTAINER_UNKNOWN' });
    state.db.insert(images).values(TEST_IMAGE_ROW).run();
    state.db
      .insert(containers)
      .values({ id: 'c1', name: 'c1', imageDigest: 'sha256:t', imageRef: 't', createdAt: 0 })
      .run();
    await ipam.createNetwork({ name: 'nobridge', subnet: '10.210.0.0/24', bridge: 'hypr-nobridge', hostRoutes: [] });
    await expect(connectEndpoint(ipam, 'nobridge', { containerId: 'c1', netns: host })).rejects.toMatchObject({
      code: 'NETWORK_TAP_FAILED',
    });
    expect(ipam.leases()).toEqual([]);
    expect(await listLinks('hyprt', { netns: host })).toEqual([]);
  } finally {
    state.close();
    await rm(dir, { recursive: true, force: true });
  }
});

describe('egress and isolation (nftables in the host namespace)', () => {
  let c1: string;
  let c2: string;
  let c3: string;
  let c4: string;
  beforeAll(() => {
    c1 = attach('c1', A, '10.201.0.2');
    c2 = attach('c2', A, '10.201.0.3');
    c3 = attach('c3', B, '10.202.0.2');
    c4 = attach('c4', I, '10.203.0.2');
  });

  test('a VM reaches the outside through masquerade', () => {
    // busybox 1.35's `wget -T` crashes (SIGSEGV): the timeout comes from coreutils instead.
    const body = inNs(c1, 'timeout', '10', 'busybox', 'wget', '-q', '-O', '-', 'http://198.51.100.2:8080/');
    expect(body).toBe('hello from outside\n');
  });

  test('VMs of one network reach each other; other networks and the outside cannot start a connection in', () => {
    expect(reach(c1, '10.201.0.3')).toBe(true);
    expect(reach(c1, '10.202.0.2')).toBe(false);
    expect(reach(c3, '10.201.0.2')).toBe(false);
    sh('ip', ['-n', outside, 'route', 'add', '10.201.0.0/24', 'via', '198.51.100.1']);
    expect(reach(outside, '10.201.0.2')).toBe(false);
    expect(reach(c2, A.gateway)).toBe(true);
  });

  test('an internal network has no egress, but its gateway answers', () => {
    expect(reach(c4, I.gateway)).toBe(true);
    expect(reach(c4, '198.51.100.2')).toBe(false);
    expect(reach(c4, '10.201.0.2')).toBe(false);
  });

  test('rules are replaced in place, removed with their network, and all at once on stop', async () => {
    await applyNetworkRules(A, { netns: host });
    const chains = await listRuleChains({ netns: host });
    expect(chains.filter((c) => c === 'fwd-hypr-testa')).toHaveLength(1);
    const rules = inNs(host, 'nft', 'list', 'chain', 'ip', 'hypr', 'postrouting');
    expect(rules.match(/masquerade/g)).toHaveLength(2); // A and B; I is internal
    await removeNetworkRules(B, { netns: host });
    await removeNetworkRules(B, { netns: host });
    expect((await listRuleChains({ netns: host })).sort()).toEqual([
      'forward',
      'fwd-hypr-testa',
      'fwd-hypr-testi',
      'postrouting',
    ]);
    expect(reach(c1, '10.201.0.3')).toBe(true);
    await removeAllHyprRules({ netns: host });
    await removeAllHyprRules({ netns: host });
    expect(await listRuleChains({ netns: host })).toEqual([]);
    expect(inNs(host, 'nft', 'list', 'ruleset').trim()).toBe('');
    // Without HYPR's rules the host routes between the networks: the drops above were the rules' doing.
    expect(reach(c1, '10.202.0.2')).toBe(true);
    for (const n of [A, B, I]) await deleteBridge(n.bridge, { netns: host });
    await deleteBridge(A.bridge, { netns: host });
    expect(await listLinks('hypr-', { netns: host })).toEqual([]);
  });
});
