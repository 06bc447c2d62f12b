import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildImage } from '../src/builder/executor.js';
import type { BuildImageOptions } from '../src/builder/options.js';
import { runNativeStep } from '../src/builder/step-native.js';
import { decompressLayer } from '../src/image/decompress.js';
import { readTar } from '../src/image/tar-reader.js';
import { type TestStore, loadTestImage, openTestStore } from './helpers/build-store.js';
import { buildBusyboxImage } from './helpers/busybox-image.js';
import { assertVmPrerequisites, makeBusyboxRootfs } from './helpers/vm.js';

// `--builder native`: RUN on the host in fresh namespaces, chrooted into an overlay of the stage.
// Real namespaces and overlayfs (root); the comparison with the VM runner boots real microVMs.
let ts: TestStore;
let ctx: string;

beforeAll(async () => {
  ts = await openTestStore();
  await loadTestImage(ts.store, await buildBusyboxImage({ config: { Cmd: ['sh'] } }), 'nativebase:1');
  ctx = await mkdtemp(join(tmpdir(), 'hypr-native-ctx-'));
  await writeFile(join(ctx, 'app.txt'), 'app\n');
}, 60_000);
afterAll(async () => {
  await ts?.close();
  await rm(ctx, { recursive: true, force: true });
});

const build = (dockerfile: string, extra: Partial<BuildImageOptions> = {}) =>
  buildImage({ contextDir: ctx, dockerfile, store: ts.store, noCache: true, ...extra });

async function layerFiles(digest: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const { header, body } of readTar(decompressLayer(ts.store.blobs.openBlob(digest)))) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    out.set(`${header.path}|${header.type}`, Buffer.concat(chunks).toString());
  }
  return out;
}

/** Exercises what a layer can hold: new, changed and deleted files, opaque dirs, links, owners. */
const DOCKERFILE = [
  'FROM nativebase:1',
  'COPY app.txt /app/app.txt',
  'RUN mkdir -p /app/d/e && echo one > /app/a && echo keep > /app/d/k && ln /app/a /app/a2 && ln -s a /app/s',
  'ENV STEP=two',
  'RUN echo $STEP >> /app/a && rm /etc/group && rm -r /app/d && mkdir /app/d && echo new > /app/d/n && chown 65534:65534 /app/d/n',
  'RUN --network=none rm /app/a2 && chmod 700 /app && mkdir -p /empty && cat /app/a > /seen && mknod /app/fifo p',
  'WORKDIR /work/dir',
  'USER nobody',
  'RUN id -u > /tmp/uid && pwd > /tmp/pwd',
].join('\n');

describe('the native builder', () => {
  test('RUN runs in the stage as its user and workdir; each step yields its own layer', async () => {
    const r = await build(DOCKERFILE, { builder: 'native' });
    expect(r.vmBoots).toBe(2); // WORKDIR makes a layer on the host: two groups of RUN steps
    const last = await layerFiles(r.image.layers.at(-1)!.digest);
    expect(last.get('tmp/uid|file')).toBe('65534\n');
    expect(last.get('tmp/pwd|file')).toBe('/work/dir\n');
    const second = await layerFiles(r.image.layers.at(-4)!.digest);
    expect([...second.keys()].sort()).toEqual([
      'app/a|file',
      'app/d/.wh..wh..opq|file',
      'app/d/n|file',
      'app/d/|directory',
      'app/|directory',
      'etc/.wh.group|file',
      'etc/|directory',
    ]);
  }, 120_000);

  test('RUN --network=none has only a loopback; the host tree of the stage is never written', async () => {
    const rootfs = await makeBusyboxRootfs();
    try {
      const step = await runNativeStep({
        rootfsDir: rootfs,
        commands: [
          {
            kind: 'run',
            argv: ['/bin/sh', '-c', 'ip -o link | wc -l > /links; echo x > /etc/motd'],
            env: [],
            network: 'none',
          },
        ],
      });
      try {
        expect(step.failed).toBeUndefined();
        expect(execFileSync('tar', ['-xOf', step.layerTarPath!, 'links']).toString().trim()).toBe('1');
        expect(execFileSync('ls', [join(rootfs, 'etc')]).toString()).not.toContain('motd');
      } finally {
        await step.cleanup();
      }
    } finally {
      await rm(rootfs, { recursive: true, force: true });
    }
  });

  test('the same Dockerfile through the native and the VM runner gives the same image id', async () => {
    assertVmPrerequisites();
    const native = await build(DOCKERFILE, { builder: 'native' });
    const vm = await build(DOCKERFILE);
    expect(vm.image.layers.map((l) => l.digest)).toEqual(native.image.layers.map((l) => l.digest));
    expect(vm.imageId).toBe(native.imageId);
  }, 300_000);
});
