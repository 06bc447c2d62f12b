import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type HyprState, containers, images, openState } from '../state/index.js';
import { formatIpv4, parseCidr, parseIpv4 } from './cidr.js';
import type { HostRoute } from './host-routes.js';
import { Ipam, macForAddress } from './ipam.js';

const hostRoutes: HostRoute[] = [
  { cidr: { network: 0, prefix: 0 }, dev: 'eth0', gateway: '192.0.2.1' },
  { cidr: parseCidr('192.0.2.0/24'), dev: 'eth0' },
  { cidr: parseCidr('10.88.0.0/16'), dev: 'docker0' },
];

let dir: string;
let state: HyprState;
let ipam: Ipam;

function addContainer(id: string): void {
  state.db
    .insert(images)
    .values({
      digest: 'sha256:x',
      mediaType: 'm',
      configDigest: 'c',
      config: '{}',
      layers: '[]',
      os: 'linux',
      architecture: 'amd64',
      sizeBytes: 0,
      createdAt: 0,
    })
    .onConflictDoNothing()
    .run();
  state.db
    .insert(containers)
    .values({ id, name: `c-${id}`, imageDigest: 'sha256:x', imageRef: 'x', createdAt: 0 })
    .run();
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hypr-ipam-'));
  state = openState(join(dir, 'state.db'));
  ipam = new Ipam(state);
});
afterEach(async () => {
  state.close();
  await rm(dir, { recursive: true, force: true });
});

describe('networks', () => {
  test('a network without --subnet gets the first pool subnet the host does not route', async () => {
    const n = await ipam.createNetwork({ name: 'default', hostRoutes });
    expect(n).toMatchObject({ subnet: '10.89.0.0/16', gateway: '10.89.0.1', internal: false });
    expect(n.bridge).toBe(`hypr-${n.id.slice(0, 10)}`);
    expect(n.bridge.length).toBeLessThanOrEqual(15);
    const m = await ipam.createNetwork({ name: 'second', hostRoutes });
    expect(m.subnet).toBe('10.90.0.0/16');
  });

  test('--subnet, --gateway, --ip-range and --internal are kept', async () => {
    const n = await ipam.createNetwork({
      name: 'back',
      subnet: '10.200.0.0/24',
      gateway: '10.200.0.254',
      ipRange: '10.200.0.128/28',
      internal: true,
      labels: { a: 'b' },
      hostRoutes,
    });
    expect(ipam.getNetwork('back')).toEqual(n);
    expect(ipam.getNetwork(n.id.slice(0, 6))).toEqual(n);
    expect(n).toMatchObject({ gateway: '10.200.0.254', ipRange: '10.200.0.128/28', internal: true });
  });

  test('overlapping subnets are refused, with HYPR networks and with host routes', async () => {
    await ipam.createNetwork({ name: 'a', subnet: '10.200.0.0/16', hostRoutes });
    await expect(ipam.createNetwork({ name: 'b', subnet: '10.200.5.0/24', hostRoutes })).rejects.toMatchObject({
      code: 'NETWORK_SUBNET_OVERLAP',
      message: expect.stringContaining('network a'),
    });
    await expect(ipam.createNetwork({ name: 'c', subnet: '192.0.2.128/25', hostRoutes })).rejects.toMatchObject({
      code: 'NETWORK_SUBNET_OVERLAP',
      message: expect.stringContaining('192.0.2.0/24 dev eth0'),
    });
    expect(ipam.listNetworks().map((n) => n.name)).toEqual(['a']);
  });

  test('bad input is a clear error', async () => {
    const bad = async (o: Parameters<Ipam['createNetwork']>[0], code: string) =>
      expect(ipam.createNetwork({ hostRoutes, ...o })).rejects.toMatchObject({ code });
    await bad({ name: 'x', subnet: '10.200.0.1/16' }, 'NETWORK_SUBNET_INVALID');
    await bad({ name: 'x', subnet: 'fd00::/64' }, 'NETWORK_IPV6_UNSUPPORTED');
    await bad({ name: 'x', subnet: '10.200.0.0/31' }, 'NETWORK_SUBNET_TOO_SMALL');
    await bad({ name: 'x', subnet: '10.200.0.0/24', gateway: '10.201.0.1' }, 'NETWORK_GATEWAY_OUTSIDE_SUBNET');
    await bad({ name: 'x', subnet: '10.200.0.0/24', gateway: '10.200.0.255' }, 'NETWORK_GATEWAY_OUTSIDE_SUBNET');
    await bad({ name: 'x', subnet: '10.200.0.0/24', ipRange: '10.200.1.0/28' }, 'NETWORK_RANGE_OUTSIDE_SUBNET');
    await bad({ name: '-x' }, 'NETWORK_NAME_INVALID');
    await bad({ name: 'x', bridge: 'br0' }, 'NETWORK_BRIDGE_INVALID');
    await ipam.createNetwork({ name: 'x', hostRoutes });
    await bad({ name: 'x' }, 'NETWORK_NAME_IN_USE');
    expect(() => ipam.requireNetwork('y')).toThrow(
      expect.objectContaining({ code: 'NETWORK_NOT_FOUND', hint: 'did you mean x?' }),
    );
  });

  test('removing a network with connected containers needs force; its leases go with it', async () => {
    addContainer('c1');
    const n = await ipam.createNetwork({ name: 'a', subnet: '10.200.0.0/24', hostRoutes });
    ipam.allocate('a', { containerId: 'c1' });
    expect(() => ipam.removeNetwork('a')).toThrow(expect.objectContaining({ code: 'NETWORK_IN_USE' }));
    ipam.removeNetwork('a', { force: true });
    expect(ipam.leases(n.id)).toEqual([]);
    expect(ipam.listNetworks()).toEqual([]);
  });
});

describe('leases', () => {
  test('addresses are handed out once, lowest first, skipping the gateway', async () => {
    const n = await ipam.createNetwork({ name: 'a', subnet: '10.200.0.0/24', gateway: '10.200.0.2', hostRoutes });
    const got = [0, 1, 2].map(() => ipam.allocate('a').address);
    expect(got).toEqual(['10.200.0.1', '10.200.0.3', '10.200.0.4']);
    const lease = ipam.leases(n.id)[0];
    expect(lease).toMatchObject({ prefix: 24, mac: '02:68:0a:c8:00:01' });
    expect(ipam.release(n.id, '10.200.0.3')).toBe(true);
    expect(ipam.allocate('a').address).toBe('10.200.0.3');
  });

  test('a static --ip is checked: in the subnet, not reserved, not taken', async () => {
    await ipam.createNetwork({ name: 'a', subnet: '10.200.0.0/24', ipRange: '10.200.0.128/25', hostRoutes });
    expect(ipam.allocate('a', { address: '10.200.0.7' }).address).toBe('10.200.0.7');
    const err = (address: string) => {
      try {
        ipam.allocate('a', { address });
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(err('10.200.0.7')).toBe('NETWORK_ADDRESS_IN_USE');
    expect(err('10.200.1.7')).toBe('NETWORK_ADDRESS_OUT_OF_RANGE');
    expect(err('10.200.0.1')).toBe('NETWORK_ADDRESS_RESERVED');
    expect(err('10.200.0.255')).toBe('NETWORK_ADDRESS_RESERVED');
    expect(ipam.allocate('a').address).toBe('10.200.0.128');
  });

  test('an exhausted subnet is a clear error and leaves nothing behind', async () => {
    const n = await ipam.createNetwork({ name: 'tiny', subnet: '10.200.0.0/29', hostRoutes });
    const got = Array.from({ length: 5 }, () => ipam.allocate('tiny').address);
    expect(got).toEqual(['10.200.0.2', '10.200.0.3', '10.200.0.4', '10.200.0.5', '10.200.0.6']);
    expect(() => ipam.allocate('tiny')).toThrow(expect.objectContaining({ code: 'NETWORK_SUBNET_EXHAUSTED' }));
    expect(ipam.leases(n.id)).toHaveLength(5);
  });

  test('leases survive a restart (the database reopened)', async () => {
    addContainer('c1');
    addContainer('c2');
    const n = await ipam.createNetwork({ name: 'a', subnet: '10.200.0.0/24', hostRoutes });
    ipam.allocate('a', { containerId: 'c1' });
    ipam.allocate('a', { containerId: 'c2' });
    state.close();
    state = openState(join(dir, 'state.db'));
    ipam = new Ipam(state);
    expect(ipam.leasesOfContainer('c2')).toMatchObject([{ address: '10.200.0.3', networkId: n.id }]);
    expect(ipam.allocate('a').address).toBe('10.200.0.4');
    expect(ipam.releaseContainer('c1').map((l) => l.address)).toEqual(['10.200.0.2']);
    expect(ipam.allocate('a').address).toBe('10.200.0.2');
  });

  test('two handles on one database never hand out the same address', async () => {
    await ipam.createNetwork({ name: 'a', subnet: '10.200.0.0/24', hostRoutes });
    const second = openState(join(dir, 'state.db'));
    const other = new Ipam(second);
    const seen = new Set<string>();
    try {
      for (let i = 0; i < 50; i++) {
        for (const h of [ipam, other]) {
          const a = h.allocate('a').address;
          expect(seen.has(a)).toBe(false);
          seen.add(a);
        }
      }
    } finally {
      second.close();
    }
  });
});

test('addresses print back as parsed', () => {
  for (const a of ['0.0.0.0', '10.88.0.5', '255.255.255.255', '192.168.1.200'])
    expect(formatIpv4(parseIpv4(a))).toBe(a);
  expect(macForAddress('10.88.0.5')).toBe('02:68:0a:58:00:05');
});
