import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildImage } from '../src/builder/executor.js';
import type { BuildRunNetwork } from '../src/builder/options.js';
import { decompressLayer } from '../src/image/decompress.js';
import { readTar } from '../src/image/tar-reader.js';
import { type Child, spawnChild } from '../src/process.js';
import { type TestStore, loadTestImage, openTestStore } from './helpers/build-store.js';
import { buildBusyboxImage } from './helpers/busybox-image.js';
import { TestNamespaces, sh } from './helpers/netns.js';
import { assertVmPrerequisites } from './helpers/vm.js';

// RUN steps with a network, on real microVMs: the test plays hyprd's part. Its runNetwork hook puts a
// TAP on a bridge inside a network namespace made here, where an HTTP server (busybox httpd) serves a
// file; a RUN fetches it, a RUN --network=none cannot, and the names the RUN saw never reach a layer.
const spaces = new TestNamespaces();
let ns: string;
let ts: TestStore;
let www: string;
let httpd: Child | undefined;
let taps = 0;
const acquired: string[] = [];

const runNetwork = async (): Promise<BuildRunNetwork> => {
  const tap = `hyprbt${taps++}`;
  sh('ip', ['-n', ns, 'tuntap', 'add', tap, 'mode', 'tap']);
  sh('ip', ['-n', ns, 'link', 'set', tap, 'master', 'br0', 'up']);
  acquired.push(tap);
  return {
    nics: [
      {
        tap,
        mac: `02:48:59:50:52:${String(10 + taps).padStart(2, '0')}`,
        address: '10.77.0.2/24',
        gateway: '10.77.0.1',
      },
    ],
    dns: ['10.77.0.1'],
    hosts: [{ name: 'files.test', address: '10.77.0.1' }],
    netns: ns,
    release: async () => {
      sh('ip', ['-n', ns, 'link', 'del', tap]);
    },
  };
};

beforeAll(async () => {
  assertVmPrerequisites();
  ns = spaces.add('build');
  sh('ip', ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
  sh('ip', ['-n', ns, 'addr', 'add', '10.77.0.1/24', 'dev', 'br0']);
  sh('ip', ['-n', ns, 'link', 'set', 'br0', 'up']);
  www = await mkdtemp(join(tmpdir(), 'hypr-build-www-'));
  await mkdir(join(www, 'pkg'));
  await writeFile(join(www, 'pkg/hello.txt'), 'fetched over the build network\n');
  httpd = spawnChild('ip', ['netns', 'exec', ns, 'busybox', 'httpd', '-f', '-p', '10.77.0.1:8080', '-h', www]);
  ts = await openTestStore();
  await loadTestImage(ts.store, await buildBusyboxImage({ config: { Cmd: ['sh'] } }), 'netbase:1');
}, 60_000);
afterAll(async () => {
  await httpd?.stop();
  spaces.cleanup();
  await ts?.close();
  await rm(www, { recursive: true, force: true });
});

async function layerFiles(digest: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const { header, body } of readTar(decompressLayer(ts.store.blobs.openBlob(digest)))) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    out.set(header.path, Buffer.concat(chunks).toString());
  }
  return out;
}

describe('RUN with a network', () => {
  test('a RUN fetches a file from a server on the build network; RUN --network=none cannot', async () => {
    const ctx = await mkdtemp(join(tmpdir(), 'hypr-build-net-'));
    try {
      const r = await buildImage({
        contextDir: ctx,
        store: ts.store,
        noCache: true,
        runNetwork,
        dockerfile: [
          'FROM netbase:1',
          // The gateway as a Dockerfile finds it: the VM's default route.
          `RUN gw=$(ip route | awk '/default/ {print $3}') && wget -q -O /hello.txt "http://$gw:8080/pkg/hello.txt"`,
          'RUN --network=none (wget -q -T 3 -O /none.txt http://10.77.0.1:8080/pkg/hello.txt && echo reached || echo unreachable) > /none-result; rm -f /none.txt',
          'RUN cat /etc/resolv.conf > /seen-resolv && grep files.test /etc/hosts > /seen-hosts',
        ].join('\n'),
      });
      expect(r.vmBoots).toBe(1);
      expect(acquired).toHaveLength(1);
      const layers = await Promise.all(r.image.layers.slice(-3).map((l) => layerFiles(l.digest)));
      expect(layers[0].get('hello.txt')).toBe('fetched over the build network\n');
      expect(layers[1].get('none-result')).toBe('unreachable\n');
      expect(layers[2].get('seen-resolv')).toContain('nameserver 10.77.0.1');
      expect(layers[2].get('seen-hosts')).toMatch(/^10\.77\.0\.1\s+files\.test\n$/);
      // The name files were bind-mounted for the RUN only: no layer holds them, nor an /etc they made.
      for (const l of layers) expect([...l.keys()].filter((p) => p.startsWith('etc'))).toEqual([]);
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
  }, 240_000);

  test('without the hook, or with --network none, RUN has no network and the hook is not called', async () => {
    const ctx = await mkdtemp(join(tmpdir(), 'hypr-build-net-'));
    const before = acquired.length;
    try {
      const dockerfile =
        'FROM netbase:1\nRUN (wget -q -T 3 -O - http://10.77.0.1:8080/pkg/hello.txt || echo unreachable) > /r\n';
      const r = await buildImage({
        contextDir: ctx,
        store: ts.store,
        noCache: true,
        runNetwork,
        network: 'none',
        dockerfile,
      });
      expect((await layerFiles(r.image.layers.at(-1)!.digest)).get('r')).toBe('unreachable\n');
      expect(acquired.length).toBe(before);
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
  }, 240_000);
});
