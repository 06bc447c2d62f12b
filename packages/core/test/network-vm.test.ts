import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Endpoint,
  Ipam,
  type NetworkRecord,
  bringUpNetwork,
  connectEndpoint,
  disconnectEndpoint,
  listLinks,
  listRuleChains,
  removeAllHyprRules,
  tearDownNetwork,
} from '../src/network/index.js';
import { type Child, spawnChild } from '../src/process.js';
import { type HyprState, containers, images, openState } from '../src/state/index.js';
import { type GuestVm, bootGuestVm, runVm } from '../src/vmm/guest-vm.js';
import { TestNamespaces, inNs, sh } from './helpers/netns.js';
import { type RunningAgent, startAgent } from './helpers/run-agent.js';
import { TEST_IMAGE_ROW } from './helpers/state-rows.js';
import { assertVmPrerequisites, makeBusyboxRootfs } from './helpers/vm.js';

// Real VMs on real bridges, all inside a namespace made here (`host` plays the machine running
// hyprd): two VMs on network "front" find each other by name through HYPR's DNS server on the
// gateway, a published port reaches the web VM's httpd, a VM on network "back" cannot reach it.
// The DNS server and port proxy run in an agent process inside the namespace (see netns-agent.ts).
// `outside` plays the internet behind the host's default route, with no route back to the VMs.
const spaces = new TestNamespaces();
let host: string;
let dir: string;
let rootfs: string;
let state: HyprState;
let ipam: Ipam;
let front: NetworkRecord;
let back: NetworkRecord;
const eps: Record<string, Endpoint> = {};
let agent: RunningAgent | undefined;
let web: GuestVm | undefined;
let outsideHttpd: Child | undefined;

function vmNet(ep: Endpoint) {
  return {
    netns: host,
    nics: [{ tap: ep.tap, mac: ep.mac, address: ep.address, gateway: ep.gateway }],
    dns: ep.dns,
  };
}

beforeAll(async () => {
  assertVmPrerequisites();
  host = spaces.add('host');
  const outside = spaces.add('out');
  spaces.link(host, 'eth0', outside, 'eth0', { aAddress: '198.51.100.1/24', bAddress: '198.51.100.2/24' });
  sh('ip', ['-n', host, 'route', 'add', 'default', 'via', '198.51.100.2']);
  dir = await mkdtemp(join(tmpdir(), 'hypr-netvm-'));
  rootfs = await makeBusyboxRootfs(dir);
  await mkdir(join(rootfs, 'www'));
  await writeFile(join(rootfs, 'www/index.html'), 'hello from web\n');
  await mkdir(join(dir, 'outside'));
  await writeFile(join(dir, 'outside/index.html'), 'hello from outside\n');
  outsideHttpd = spawnChild('ip', [
    'netns',
    'exec',
    outside,
    'busybox',
    'httpd',
    '-f',
    '-p',
    '8080',
    '-h',
    join(dir, 'outside'),
  ]);
  state = openState(join(dir, 'state.db'));
  state.db.insert(images).values(TEST_IMAGE_ROW).run();
  for (const id of ['web', 'client', 'other'])
    state.db.insert(containers).values({ id, name: id, imageDigest: 'sha256:t', imageRef: 't', createdAt: 0 }).run();
  ipam = new Ipam(state);
  front = await ipam.createNetwork({ name: 'front', subnet: '10.231.0.0/24', netns: host });
  back = await ipam.createNetwork({ name: 'back', subnet: '10.232.0.0/24', netns: host });
  for (const n of [front, back]) await bringUpNetwork(n, { netns: host });
  eps.web = await connectEndpoint(ipam, 'front', { containerId: 'web', netns: host });
  eps.client = await connectEndpoint(ipam, 'front', { containerId: 'client', netns: host });
  eps.other = await connectEndpoint(ipam, 'back', { containerId: 'other', netns: host });
  agent = await startAgent(host, {
    dns: {
      address: front.gateway,
      records: [
        { name: 'web', address: eps.web.ip },
        { name: 'www-alias', address: eps.web.ip },
        { name: 'client', address: eps.client.ip },
      ],
    },
    publish: [{ spec: '127.0.0.1::80', target: eps.web.ip }],
  });
  web = await bootGuestVm({
    rootfs: { dir: rootfs },
    hostname: 'web',
    argv: ['httpd', '-f', '-p', '80', '-h', '/www'],
    ...vmNet(eps.web),
  });
});

afterAll(async () => {
  await web?.destroy();
  await agent?.child.stop();
  await outsideHttpd?.stop();
  spaces.cleanup();
  state?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('VMs on HYPR networks', () => {
  test('a published port on the host reaches the httpd of a VM', async () => {
    const port = agent?.ports[0].hostPort;
    let body = '';
    for (let i = 0; i < 120 && !body; i++) {
      try {
        body = inNs(host, 'timeout', '5', 'busybox', 'wget', '-q', '-O', '-', `http://127.0.0.1:${port}/`);
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect(body).toBe('hello from web\n');
  });

  test('a VM has its address, reaches its gateway, and finds another VM by name and alias', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      hostname: 'client',
      timeoutMs: 60_000,
      ...vmNet(eps.client),
      argv: [
        'sh',
        '-c',
        [
          'ip -4 -o addr show eth0 | awk "{print \\$4}"',
          `ping -c 1 -W 5 ${front.gateway} >/dev/null && echo gateway-ok`,
          'nslookup web | grep -A1 "^Name:" | grep Address | awk "{print \\$NF}"',
          'nslookup www-alias | grep -A1 "^Name:" | grep Address | awk "{print \\$NF}"',
          'for i in $(seq 1 60); do wget -q -O - http://web/ 2>/dev/null && break; sleep 0.5; done',
          'wget -q -O - http://www-alias/',
        ].join('; '),
      ],
    });
    expect(r.stdout).toBe(
      [eps.client.address, 'gateway-ok', eps.web.ip, eps.web.ip, 'hello from web', 'hello from web', ''].join('\n'),
    );
  });

  test('a VM on another network cannot reach it, but reaches the outside through NAT', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      hostname: 'other',
      timeoutMs: 60_000,
      ...vmNet(eps.other),
      argv: [
        'sh',
        '-c',
        `ping -c 1 -W 5 ${back.gateway} >/dev/null && echo gateway-ok; timeout 5 wget -q -O - http://${eps.web.ip}/ 2>/dev/null || echo blocked; wget -q -O - http://198.51.100.2:8080/`,
      ],
    });
    expect(r.stdout).toBe('gateway-ok\nblocked\nhello from outside\n');
  });

  test('teardown leaves no TAP, bridge, rule or lease', async () => {
    await web?.destroy();
    web = undefined;
    await agent?.child.stop();
    agent = undefined;
    for (const [id, ep] of Object.entries(eps))
      await disconnectEndpoint(ipam, ep.networkId, { containerId: id, netns: host });
    for (const n of [front, back]) {
      await tearDownNetwork(n, { netns: host });
      ipam.removeNetwork(n.id);
    }
    await removeAllHyprRules({ netns: host });
    expect(await listLinks('hypr', { netns: host })).toEqual([]);
    expect(await listRuleChains({ netns: host })).toEqual([]);
    expect(ipam.leases()).toEqual([]);
  });
});
