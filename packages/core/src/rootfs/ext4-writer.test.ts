import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, lstatSync, openSync, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCommand } from '../process.js';
import { type Ext4Meta, Ext4Writer, Ext4WriterError } from './ext4-writer.js';

// Real e2fsprogs and a real loop mount (root): e2fsck -fn is the oracle for the format, the kernel's
// ext4 driver for what a guest sees.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hypr-ext4w-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const T = 1_700_000_000.25;
const meta = (mode: number, uid = 0, gid = 0, mtime = T): Ext4Meta => ({ mode, uid, gid, mtime });
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** e2fsck -fn: exit status and what it printed (its findings go to stdout). */
function fsck(img: string): { status: number | null; output: string } {
  const r = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}${r.error ?? ''}` };
}

/** e2fsck exits 0 and says nothing beyond its passes: with -n it still exits 0 on a wrong free count it was not allowed to fix. */
function expectClean(img: string): void {
  const r = fsck(img);
  expect(r.status, r.output).toBe(0);
  const findings = r.output
    .split('\n')
    .filter((l) => l && !/^(e2fsck \d|Pass \d+[A-Z]?: )|: \d+\/\d+ files \(/.test(l));
  expect(findings).toEqual([]);
}

/** Mounts the image read-only on a loop device for `fn`; a failing mount fails the test with its reason. */
async function withMount<T>(img: string, fn: (root: string) => T | Promise<T>): Promise<T> {
  const mnt = await mkdtemp(join(dir, 'mnt-'));
  await runCommand('mount', ['-o', 'ro,loop', img, mnt]);
  try {
    return await fn(mnt);
  } finally {
    await runCommand('umount', [mnt]);
    await rm(mnt, { recursive: true, force: true });
  }
}

async function newImage(name: string, opts?: Parameters<typeof Ext4Writer.create>[1]) {
  const path = join(dir, name);
  return { path, w: await Ext4Writer.create(path, opts) };
}

function addBytes(w: Ext4Writer, parts: string[], m: Ext4Meta, data: Buffer, chunk = 65536): void {
  const sink = w.addFile(parts, m, data.length);
  for (let off = 0; off < data.length; off += chunk) sink.write(data.subarray(off, off + chunk));
  sink.end();
}

/** Every xattr under `root` (not following symlinks), as hex, read by the kernel through python's os.getxattr. */
async function readXattrs(root: string): Promise<Record<string, Record<string, string>>> {
  const script = `
import json, os, sys
root = sys.argv[1]
out = {}
for d, dirs, files in os.walk(root):
    for p in [d] + [os.path.join(d, n) for n in files + dirs]:
        xs = os.listxattr(p, follow_symlinks=False)
        if xs:
            out[os.path.relpath(p, root)] = {x: os.getxattr(p, x, follow_symlinks=False).hex() for x in xs}
print(json.dumps(out))`;
  const { stdout } = await runCommand('python3', ['-c', script, root]);
  return JSON.parse(stdout);
}

interface Seen {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: string;
  nlink: number;
  sha256?: string;
  target?: string;
  rdev?: [number, number];
}

/** What the mounted tree holds, path by path (lost+found aside). */
function describeTree(root: string): Map<string, Seen> {
  const seen = new Map<string, Seen>();
  const walk = (rel: string) => {
    const p = rel ? join(root, rel) : root;
    const st = lstatSync(p, { bigint: true });
    const type = st.isDirectory()
      ? 'dir'
      : st.isFile()
        ? 'file'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isCharacterDevice()
            ? 'char'
            : st.isBlockDevice()
              ? 'block'
              : st.isFIFO()
                ? 'fifo'
                : 'other';
    const rdev = Number(st.rdev);
    seen.set(rel || '.', {
      type,
      mode: Number(st.mode) & 0o7777,
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtimeNs: st.mtimeNs.toString(),
      nlink: Number(st.nlink),
      ...(type === 'file' && { sha256: sha256(readFileSync(p)) }),
      ...(type === 'symlink' && { target: readlinkSync(p) }),
      ...((type === 'char' || type === 'block') && {
        rdev: [((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff), (rdev & 0xff) | ((rdev >> 12) & ~0xff)],
      }),
    });
    if (type === 'dir') for (const n of readdirSync(p)) if (rel || n !== 'lost+found') walk(rel ? `${rel}/${n}` : n);
  };
  walk('');
  return seen;
}

const nsOf = (t: number) => (BigInt(Math.floor(t)) * 1_000_000_000n + BigInt(Math.round((t % 1) * 1e9))).toString();

describe('an image written in one pass', () => {
  test('mounts with the tree it was given, and e2fsck finds nothing', async () => {
    const { path, w } = await newImage('tree.ext4', { label: 'hypr-test' });
    const want = new Map<string, Seen>();
    const expectEntry = (rel: string, type: string, m: Ext4Meta, extra: Partial<Seen> = {}) =>
      want.set(rel, { type, mode: m.mode, uid: m.uid, gid: m.gid, mtimeNs: nsOf(m.mtime), nlink: 1, ...extra });

    w.mkdir([], meta(0o755, 0, 0, 1_600_000_000));
    expectEntry('.', 'dir', meta(0o755, 0, 0, 1_600_000_000));
    for (const d of ['etc', 'usr', 'usr/bin', 'usr/lib', 'tmp', 'big', 'home', 'home/user']) {
      const m = d === 'tmp' ? meta(0o1777) : d === 'home/user' ? meta(0o2750, 100_000, 200_000) : meta(0o755);
      w.mkdir(d.split('/'), m);
      expectEntry(d, 'dir', m);
    }
    const files: [string, Buffer, Ext4Meta][] = [
      ['etc/empty', Buffer.alloc(0), meta(0o644)],
      ['etc/one', Buffer.from('x'), meta(0o600, 1, 2)],
      ['etc/block', randomBytes(4096), meta(0o644, 0, 0, 0)],
      ['usr/bin/su', randomBytes(5000), meta(0o4755)],
      ['home/user/.profile', Buffer.from('export A=1\n'), meta(0o640, 100_000, 200_000, 2 ** 31 + 12.5)],
    ];
    for (const [rel, data, m] of files) {
      addBytes(w, rel.split('/'), m, data);
      expectEntry(rel, 'file', m, { sha256: sha256(data) });
    }
    // 5 MiB in odd-sized chunks: no chunk or file boundary falls on a block.
    const five = randomBytes(5 << 20);
    const sink = w.addFile(['usr', 'lib', 'libbig.so'], meta(0o755), five.length);
    for (let off = 0, i = 0; off < five.length; i++) {
      const n = [1, 4095, 4097, 65_537, 333_333][i % 5];
      sink.write(five.subarray(off, off + n));
      off += n;
    }
    sink.end();
    expectEntry('usr/lib/libbig.so', 'file', meta(0o755), { sha256: sha256(five) });

    w.symlink(['bin'], 'usr/bin', meta(0o777));
    expectEntry('bin', 'symlink', meta(0o777), { target: 'usr/bin' });
    const long = `/usr/lib/${'x'.repeat(200)}`;
    w.symlink(['usr', 'lib', 'long'], long, meta(0o777, 5, 6));
    expectEntry('usr/lib/long', 'symlink', meta(0o777, 5, 6), { target: long });

    // Hard links: three names, one in another directory.
    const shared = Buffer.from('#!/bin/sh\necho shared\n');
    addBytes(w, ['usr', 'bin', 'a'], meta(0o755), shared);
    w.hardlink(['usr', 'bin', 'b'], ['usr', 'bin', 'a']);
    w.hardlink(['etc', 'c'], ['usr', 'bin', 'a']);
    for (const rel of ['usr/bin/a', 'usr/bin/b', 'etc/c'])
      expectEntry(rel, 'file', meta(0o755), { sha256: sha256(shared), nlink: 3 });

    w.device(['dev', 'null'], 'char', 1, 3, meta(0o666));
    w.device(['dev', 'sda'], 'block', 8, 0, meta(0o660, 0, 6));
    w.device(['dev', 'wide'], 'char', 300, 70_000, meta(0o600));
    w.fifo(['dev', 'fifo'], meta(0o644, 7, 8));
    expectEntry('dev', 'dir', meta(0o755)); // made for dev/null, with its time
    expectEntry('dev/null', 'char', meta(0o666), { rdev: [1, 3] });
    expectEntry('dev/sda', 'block', meta(0o660, 0, 6), { rdev: [8, 0] });
    expectEntry('dev/wide', 'char', meta(0o600), { rdev: [300, 70_000] });
    expectEntry('dev/fifo', 'fifo', meta(0o644, 7, 8));

    w.whiteout(['etc', 'removed'], T);
    expectEntry('etc/removed', 'char', meta(0, 0, 0, T), { rdev: [0, 0] });
    w.mkdir(['opaque'], meta(0o755));
    w.opaque(['opaque']);
    expectEntry('opaque', 'dir', meta(0o755));

    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_bind_service+ep
    w.setXattr(['usr', 'bin', 'su'], 'security.capability', cap);
    w.setXattr(['bin'], 'trusted.on-the-link', Buffer.from('not followed'));
    // More than an inode holds: they go to an xattr block.
    const many = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`user.attribute-${i}`, randomBytes(40 + i)]));
    for (const [k, v] of Object.entries(many)) w.setXattr(['etc', 'one'], k, v);
    // posix_acl_xattr: user::rwx, user:1000:r-x, group::r-x, mask::r-x, other::r--
    const acl = Buffer.alloc(4 + 5 * 8);
    acl.writeUInt32LE(2, 0);
    [
      [0x01, 7, 0xffffffff],
      [0x02, 5, 1000],
      [0x04, 5, 0xffffffff],
      [0x10, 5, 0xffffffff],
      [0x20, 4, 0xffffffff],
    ].forEach(([tag, perm, id], i) => {
      acl.writeUInt16LE(tag, 4 + i * 8);
      acl.writeUInt16LE(perm, 6 + i * 8);
      acl.writeUInt32LE(id, 8 + i * 8);
    });
    w.setXattr(['home', 'user'], 'system.posix_acl_access', acl);

    const crowd = Buffer.from('crowd\n');
    w.mkdir(['big'], meta(0o755));
    for (let i = 0; i < 2000; i++) {
      const rel = `big/file-with-a-longer-name-${i}`;
      addBytes(w, rel.split('/'), meta(0o644, i, i), crowd);
      expectEntry(rel, 'file', meta(0o644, i, i), { sha256: sha256(crowd) });
    }
    // Directory link counts: 2 and one per subdirectory.
    for (const [rel, e] of want) {
      if (e.type !== 'dir') continue;
      const prefix = rel === '.' ? '' : `${rel}/`;
      const subdirs = [...want].filter(
        ([p, s]) => s.type === 'dir' && p !== rel && p.startsWith(prefix) && !p.slice(prefix.length).includes('/'),
      ).length;
      e.nlink = 2 + subdirs + (rel === '.' ? 1 : 0); // the root's lost+found
    }

    const { sizeBytes, inodes } = await w.finish();
    expect(lstatSync(path).size).toBe(sizeBytes);
    expect(inodes).toBe(11 + want.size - 3); // 1-11 (the root, lost+found), the tree less the root and 2 extra names
    expectClean(path);

    await withMount(path, async (root) => {
      expect(Object.fromEntries(describeTree(root))).toEqual(Object.fromEntries(want));
      expect(lstatSync(join(root, 'usr/bin/a')).ino).toBe(lstatSync(join(root, 'etc/c')).ino);
      expect(lstatSync(join(root, 'lost+found')).isDirectory()).toBe(true);
      const xattrs = await readXattrs(root);
      expect(xattrs).toEqual({
        'usr/bin/su': { 'security.capability': cap.toString('hex') },
        bin: { 'trusted.on-the-link': Buffer.from('not followed').toString('hex') },
        'etc/one': Object.fromEntries(Object.entries(many).map(([k, v]) => [k, v.toString('hex')])),
        'home/user': { 'system.posix_acl_access': acl.toString('hex') },
        opaque: { 'trusted.overlay.opaque': '79' },
      });
    });
    const label = await runCommand('dumpe2fs', ['-h', path]);
    expect(label.stdout).toMatch(/Filesystem volume name:\s+hypr-test/);
  });

  test('later entries replace earlier ones as untarring into one directory would', async () => {
    const { path, w } = await newImage('replace.ext4');
    addBytes(w, ['was-file'], meta(0o644), Buffer.from('file'));
    w.mkdir(['was-file'], meta(0o700));
    w.mkdir(['was-dir', 'sub'], meta(0o755));
    addBytes(w, ['was-dir', 'sub', 'inner'], meta(0o644), Buffer.from('gone'));
    // A name outside the replaced directory keeps the file; its link count drops to 1.
    w.hardlink(['kept'], ['was-dir', 'sub', 'inner']);
    addBytes(w, ['was-dir'], meta(0o600), Buffer.from('now a file'));
    w.mkdir(['keeps'], meta(0o755, 1, 1));
    addBytes(w, ['keeps', 'child'], meta(0o644), Buffer.from('child'));
    w.mkdir(['keeps'], meta(0o711, 2, 2, T + 1));
    // Symlinked parents are followed inside the image, absolute or with .. past the root.
    w.mkdir(['usr', 'lib'], meta(0o755));
    w.symlink(['lib'], 'usr/lib', meta(0o777));
    w.symlink(['abs'], '/usr/lib', meta(0o777));
    w.symlink(['usr', 'up'], '../../../../usr/lib', meta(0o777));
    addBytes(w, ['lib', 'a.so'], meta(0o644), Buffer.from('a'));
    addBytes(w, ['abs', 'b.so'], meta(0o644), Buffer.from('b'));
    addBytes(w, ['usr', 'up', 'c.so'], meta(0o644), Buffer.from('c'));
    // The last component is not followed: the link itself is replaced.
    w.symlink(['replaced-link'], 'usr/lib', meta(0o777));
    addBytes(w, ['replaced-link'], meta(0o644), Buffer.from('plain'));

    addBytes(w, ['plain'], meta(0o644), Buffer.from('x'));
    expect(() => w.addFile(['plain', 'under'], meta(0o644), 0)).toThrow(
      expect.objectContaining({ reason: 'not-directory' }),
    );
    expect(() => w.hardlink(['h1'], ['nowhere', 'x'])).toThrow(expect.objectContaining({ reason: 'missing' }));
    expect(() => w.hardlink(['h2'], ['usr'])).toThrow(expect.objectContaining({ reason: 'directory' }));
    w.symlink(['loop'], 'loop', meta(0o777));
    expect(() => w.mkdir(['loop', 'x'], meta(0o755))).toThrow(Ext4WriterError);
    expect(() => w.setXattr(['usr'], 'bogus.name', Buffer.from('1'))).toThrow(
      expect.objectContaining({ reason: 'xattr' }),
    );
    await w.finish();
    expectClean(path);

    await withMount(path, (root) => {
      const seen = describeTree(root);
      expect(seen.get('was-file')).toMatchObject({ type: 'dir', mode: 0o700 });
      expect(seen.get('was-dir')).toMatchObject({
        type: 'file',
        mode: 0o600,
        sha256: sha256(Buffer.from('now a file')),
      });
      expect(seen.get('kept')).toMatchObject({ type: 'file', nlink: 1, sha256: sha256(Buffer.from('gone')) });
      expect(seen.get('keeps')).toMatchObject({ type: 'dir', mode: 0o711, uid: 2, gid: 2, mtimeNs: nsOf(T + 1) });
      expect(seen.get('keeps/child')).toMatchObject({ type: 'file' });
      expect([...seen.keys()].filter((p) => p.startsWith('usr/lib/')).sort()).toEqual([
        'usr/lib/a.so',
        'usr/lib/b.so',
        'usr/lib/c.so',
      ]);
      expect(seen.get('replaced-link')).toMatchObject({ type: 'file' });
      expect(seen.has('plain/under') || seen.has('h1') || seen.has('h2')).toBe(false);
    });
  });

  test('files past 4 GiB and past 4 extents read back right', async () => {
    const { path, w } = await newImage('large.ext4');
    // 4 GiB + 5 blocks + 3 bytes, zero but for markers: 33 extents (an extent tree with a leaf),
    // i_size_high set; zero chunks are not written, so the image stays sparse on the host.
    const size = 2 ** 32 + 5 * 4096 + 3;
    const markers = new Map([
      [0, randomBytes(4096)],
      [(128 << 20) - 100, randomBytes(200)], // across the first extent's end
      [2 ** 32 - 7, randomBytes(20)],
      [size - 3, randomBytes(3)],
    ]);
    const sink = w.addFile(['huge'], meta(0o644), size);
    const zeros = Buffer.alloc(8 << 20);
    let pos = 0;
    for (const [at, data] of [...markers].sort((a, b) => a[0] - b[0])) {
      while (pos < at) {
        const n = Math.min(zeros.length, at - pos);
        sink.write(zeros.subarray(0, n));
        pos += n;
      }
      sink.write(data);
      pos += data.length;
    }
    sink.end();
    // 130 MiB of random data: two extents in the inode.
    const mid = randomBytes(130 << 20);
    addBytes(w, ['mid'], meta(0o644), mid, 1 << 20);
    await w.finish();
    expect(lstatSync(path).size).toBeGreaterThan(size);
    expectClean(path);
    const stat = await runCommand('debugfs', ['-R', 'stat /huge', path]);
    expect(stat.stdout).toMatch(/Size: 4294987779/);
    expect(stat.stdout).toMatch(/\(ETB0\):\d+/); // an extent tree block: the leaf
    await withMount(path, (root) => {
      expect(lstatSync(join(root, 'huge')).size).toBe(size);
      const fd = openSync(join(root, 'huge'), 'r');
      try {
        for (const [at, data] of markers) {
          const got = Buffer.alloc(data.length + 8);
          const n = readSync(fd, got, 0, got.length, at - 4 < 0 ? at : at - 4);
          const lead = at - 4 < 0 ? 0 : 4;
          expect(got.subarray(lead, lead + data.length).equals(data)).toBe(true);
          expect(got.subarray(0, lead).every((b) => b === 0)).toBe(true);
          expect(n).toBe(Math.min(got.length, size - (at - lead)));
        }
        const between = Buffer.alloc(1 << 20);
        readSync(fd, between, 0, between.length, 3 * 2 ** 30);
        expect(between.every((b) => b === 0)).toBe(true);
      } finally {
        closeSync(fd);
      }
      expect(sha256(readFileSync(join(root, 'mid')))).toBe(sha256(mid));
    });
  });

  test('files needing several extent leaves read back right', async () => {
    // One-block extents (a test-only cap): 700 extents need 3 leaf blocks.
    const { path, w } = await newImage('leaves.ext4', { maxExtentBlocks: 1 });
    const data = randomBytes(700 * 4096 - 10);
    addBytes(w, ['many'], meta(0o644), data, 10_000);
    await w.finish();
    expectClean(path);
    await withMount(path, (root) => expect(sha256(readFileSync(join(root, 'many')))).toBe(sha256(data)));
  });

  test('more entries than one group has inodes for', async () => {
    const { path, w } = await newImage('inodes.ext4');
    for (let i = 0; i < 40_000; i++) w.fifo(['d', `${i % 40}`, `p${i}`], meta(0o600));
    const { inodes } = await w.finish();
    expect(inodes).toBe(11 + 1 + 40 + 40_000);
    expectClean(path);
    const { stdout } = await runCommand('dumpe2fs', ['-h', path]);
    expect(Number(/Inode count:\s+(\d+)/.exec(stdout)?.[1])).toBeGreaterThan(32_768);
    await withMount(path, (root) => {
      let n = 0;
      for (let d = 0; d < 40; d++) n += readdirSync(join(root, 'd', `${d}`)).length;
      expect(n).toBe(40_000);
    });
  });
});

describe('a writer that cannot finish', () => {
  test('abort leaves no file', async () => {
    const { path, w } = await newImage('aborted.ext4');
    addBytes(w, ['f'], meta(0o644), randomBytes(10_000));
    await w.abort();
    expect(existsSync(path)).toBe(false);
  });

  test('a body that is not the size its header said is refused', async () => {
    const { path, w } = await newImage('short.ext4');
    const sink = w.addFile(['f'], meta(0o644), 10);
    sink.write(Buffer.alloc(5, 1));
    expect(() => sink.end()).toThrow(expect.objectContaining({ reason: 'size-mismatch' }));
    await expect(w.finish()).rejects.toThrow(Ext4WriterError);
    expect(() => w.addFile(['g'], meta(0o644), 1)).toThrow(Ext4WriterError);
    await w.abort();
    expect(existsSync(path)).toBe(false);
    const { w: w2 } = await newImage('long.ext4');
    const sink2 = w2.addFile(['f'], meta(0o644), 2);
    expect(() => sink2.write(Buffer.alloc(3, 1))).toThrow(expect.objectContaining({ reason: 'size-mismatch' }));
    await w2.abort();
  });

  test('xattrs ext4 cannot hold are refused', async () => {
    const { w } = await newImage('xattrs.ext4');
    w.mkdir(['d'], meta(0o755));
    expect(() => w.setXattr(['d'], 'user.big', Buffer.alloc(5000))).toThrow(
      expect.objectContaining({ reason: 'xattr' }),
    );
    expect(() => w.setXattr(['d'], 'system.other', Buffer.from('x'))).toThrow(
      expect.objectContaining({ reason: 'xattr' }),
    );
    expect(() => w.setXattr(['nope'], 'user.a', Buffer.from('x'))).toThrow(
      expect.objectContaining({ reason: 'missing' }),
    );
    await w.abort();
  });

  test('an image may not grow past maxBytes', async () => {
    const { w } = await newImage('small.ext4', { maxBytes: 1 << 20 });
    addBytes(w, ['fits'], meta(0o644), randomBytes(512 << 10));
    expect(() => w.addFile(['too-big'], meta(0o644), 1 << 20)).toThrow(
      expect.objectContaining({ reason: 'too-large' }),
    );
    await w.abort();
  });
});
