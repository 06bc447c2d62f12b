import type { StackService, StackSpec } from '@hypr/core/compose';
import { describe, expect, test } from 'vitest';
import { oneOffCreateOptions, portText, replicaCreateOptions } from './container-options.js';
import type { RunOptions } from './types.js';

const web = {
  name: 'web',
  image: 'nginx',
  env: { A: '1', B: '2' },
  hostname: 'web',
  ports: [{ hostPort: 8000, containerPort: 80, protocol: 'tcp' }],
  mounts: [{ type: 'tmpfs', target: '/run', sizeBytes: 1024, mode: 0o1777 }],
  files: [],
  networks: [{ network: 'default', name: 'shop_default', aliases: ['web'] }],
  resources: { memoryMiB: 64 },
  restart: { policy: 'always' },
  command: ['nginx', '-g', 'daemon off;'],
  labels: { team: 'a' },
  replicas: 2,
  stopSignal: 'SIGQUIT',
  stopGracePeriodMs: 1500,
  tty: false,
  stdinOpen: false,
} as unknown as StackService;
const spec = { name: 'shop', services: { web } } as unknown as StackSpec;
const replica = { projectDir: '/p', configFiles: ['/p/compose.yaml'], networked: true, stacksDir: '/s' };

test('a replica is docker run options with compose labels', () => {
  const o = replicaCreateOptions(spec, web, { ...replica, number: 2, hash: 'h' });
  expect(o).toMatchObject({
    name: 'shop-web-2',
    env: ['A=1', 'B=2'],
    ports: ['8000:80/tcp'],
    tmpfs: ['/run:size=1024,mode=1777'],
    restartPolicy: { name: 'always', maximumRetryCount: 0 },
    stopTimeoutSeconds: 2,
    memoryBytes: 64 * 1024 * 1024,
    network: { network: 'shop_default', aliases: ['web'] },
    command: ['nginx', '-g', 'daemon off;'],
  });
  expect(o.labels).toMatchObject({
    team: 'a',
    'com.docker.compose.project': 'shop',
    'com.docker.compose.container-number': '2',
    'com.docker.compose.config-hash': 'h',
    'com.docker.compose.oneoff': 'False',
  });
  expect(portText({ hostIp: '::1', hostPort: 53, hostPortEnd: 55, containerPort: 53, protocol: 'udp' })).toBe(
    '[::1]:53-55:53/udp',
  );
});

describe('a one-off container of compose run', () => {
  const run: RunOptions = {
    projectDir: '/p',
    configFiles: [],
    service: 'web',
    env: ['B=3', 'C=4'],
    noDeps: false,
    rm: true,
    servicePorts: false,
    tty: true,
    interactive: true,
    command: ['sh'],
  };

  test('is the service with the overrides, no ports, no restart, labelled one-off', () => {
    const o = oneOffCreateOptions(spec, run, replica);
    expect(o.name).toMatch(/^shop-web-run-[0-9a-f]{12}$/);
    expect(o).toMatchObject({
      env: ['A=1', 'B=3', 'C=4'],
      ports: [],
      command: ['sh'],
      restartPolicy: { name: 'no' },
      autoRemove: true,
      tty: true,
      openStdin: true,
    });
    expect(o.labels?.['com.docker.compose.oneoff']).toBe('True');
    expect(o.labels).not.toHaveProperty('com.docker.compose.container-number');
    expect(o.labels).not.toHaveProperty('com.docker.compose.config-hash');
  });

  test('publishes the ports with --service-ports and takes --name', () => {
    const o = oneOffCreateOptions(spec, { ...run, servicePorts: true, name: 'job' }, replica);
    expect(o).toMatchObject({ name: 'job', ports: ['8000:80/tcp'] });
  });
});
