import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ImageStore } from '../src/image/image-store.js';
import type { TarMemoryEntry } from '../src/image/tar-writer.js';
import { unpackImage } from '../src/image/unpack-image.js';
import { runCommand } from '../src/process.js';
import { type HyprState, openState } from '../src/state/index.js';
import { buildBusyboxImage, writeTestOciLayout } from './helpers/busybox-image.js';

let dir: string;
let state: HyprState;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hypr-umoci-'));
  state = openState(join(dir, 'hypr.db'));
});
afterAll(async () => {
  state?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every path under `root` with type, mode, owner, size, content hash or link target, mtime of files. */
async function describeTree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = await lstat(p);
      const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
      let extra = '';
      if (st.isFile())
        extra = `${st.size} ${createHash('sha256')
          .update(await readFile(p))
          .digest('hex')
          .slice(0, 16)} ${Math.floor(st.mtimeMs / 1000)} n${st.nlink}`;
      if (st.isSymbolicLink()) extra = `-> ${await readlink(p)}`;
      out.push(`${kind} ${r} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${extra}`);
      if (st.isDirectory()) await walk(r);
    }
  }
  await walk('');
  return out;
}

const d = (path: string, mode = 0o755, uid = 0): TarMemoryEntry => ({
  path,
  type: 'directory',
  mode,
  uid,
  gid: uid,
  mtime: 1_700_000_000,
});
const f = (path: string, data: string, mode = 0o644, uid = 0): TarMemoryEntry => ({
  path,
  type: 'file',
  data,
  mode,
  uid,
  gid: uid,
  mtime: 1_700_000_100,
});
const wh = (path: string): TarMemoryEntry => f(path, '', 0o644);

test('whiteouts and opaque dirs across three layers give the same tree as umoci unpack', async () => {
  const layer2: TarMemoryEntry[] = [
    d('srv'),
    f('srv/a', 'alpha'),
    d('srv/sub'),
    f('srv/sub/deep', 'deep'),
    f('srv/gone', 'to be whited out'),
    d('opaque'),
    f('opaque/old1', 'old'),
    d('opaque/olddir'),
    f('opaque/olddir/x', 'x'),
    d('home', 0o755),
    d('home/user', 0o700, 1000),
    f('home/user/.profile', 'export A=1', 0o600, 1000),
    f('bin/tool', '#!/bin/sh\necho tool', 0o4755),
    { path: 'bin/tool-link', type: 'link', linkpath: 'bin/tool' },
    { path: 'etc/motd-link', type: 'symlink', linkpath: '/srv/a' },
    d('replaced'),
    f('replaced/inner', 'inner'),
  ];
  const layer3: TarMemoryEntry[] = [
    wh('srv/.wh.gone'),
    d('opaque'),
    wh('opaque/.wh..wh..opq'),
    f('opaque/new', 'new'),
    f('srv/a', 'alpha v2', 0o600),
    wh('bin/.wh.tool-link'),
    f('replaced', 'now a file'),
    d('srv/sub', 0o750),
    f('srv/sub/added', 'added'),
  ];
  const layer4: TarMemoryEntry[] = [
    wh('.wh.home'),
    d('srv/sub'),
    wh('srv/sub/.wh.deep'),
    d('opaque'),
    f('opaque/newer', 'newer'),
    { path: 'srv/hard-to-a', type: 'link', linkpath: 'srv/a' },
  ];
  const image = await buildBusyboxImage({ extraLayers: [layer2, layer3, layer4] });
  const layout = join(dir, 'layout');
  await writeTestOciLayout(layout, image, 'test');
  const bundle = join(dir, 'bundle');
  await runCommand('umoci', ['unpack', '--image', `${layout}:test`, bundle], { packageHint: 'umoci' });

  const store = await ImageStore.open(join(dir, 'images'), state);
  for (const [digest, data] of image.blobs) await store.blobs.writeBlob(data, { digest });
  await store.blobs.writeBlob(image.manifest, { digest: image.manifestDigest });
  const rec = store.addImage({
    digest: image.manifestDigest,
    mediaType: image.manifestMediaType,
    configDigest: image.configDigest,
    config: image.config,
    layers: image.layers.map((digest) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest,
      size: image.blobs.get(digest)!.length,
    })),
  });
  const ours = join(dir, 'ours');
  await unpackImage(store, rec, ours);

  const theirs = await describeTree(join(bundle, 'rootfs'));
  const mine = await describeTree(ours);
  expect(mine).toEqual(theirs);
  expect(mine.some((l) => l.startsWith('f opaque/old1'))).toBe(false);
  expect(mine.some((l) => l.startsWith('d home'))).toBe(false);
  expect(mine.some((l) => l.startsWith('f opaque/new '))).toBe(true);
});
