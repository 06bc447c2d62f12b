import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { decompressLayer } from '../image/decompress.js';
import { readTar } from '../image/tar-reader.js';
import type { TarHeader } from '../image/tar-reader.js';
import { createDirSourceTree } from './source-tree.js';

/**
 * What COPY/ADD read besides plain files: the stage's user and group databases (for --chown
 * names) and local archives that ADD unpacks (plain tar, gzip or zstd).
 */

/** Reads `user[:group]` as numbers, looking names up in the stage's /etc/passwd and /etc/group. */
export async function resolveChown(stageRoot: string, spec: string): Promise<{ uid: number; gid: number }> {
  const tree = createDirSourceTree(stageRoot);
  const readDb = async (path: string): Promise<string[][]> => {
    const r = tree.resolve(path);
    if (r === undefined) return [];
    try {
      return (await readFile(`${stageRoot}/${r}`, 'utf8')).split('\n').map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  const [user, group] = spec.split(':', 2);
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(user)) uid = Number(user);
  else {
    const row = (await readDb('etc/passwd')).find((r) => r[0] === user);
    if (!row) throw new Error(`unable to find user ${user}: no matching entries in passwd file`);
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (group !== undefined && group !== '') {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const row = (await readDb('etc/group')).find((r) => r[0] === group);
      if (!row) throw new Error(`unable to find group ${group}: no matching entries in group file`);
      gid = Number(row[2]);
    }
  }
  return { uid, gid: gid ?? uid };
}

/** What a file's first bytes say it is: a tar, a compressed stream, an archive we cannot read, or none. */
export async function archiveKind(path: string): Promise<'tar' | 'compressed' | 'unsupported' | undefined> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'compressed';
    if (bytesRead >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'compressed';
    if (bytesRead >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'unsupported';
    if (bytesRead >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
      return 'unsupported';
    if (bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
    return undefined;
  } finally {
    await fh.close();
  }
}

/** The entries of a (possibly compressed) tar archive with file bodies read; throws when it is not one. */
export async function readArchive(file: string): Promise<{ header: TarHeader; data?: Buffer }[]> {
  const out: { header: TarHeader; data?: Buffer }[] = [];
  for await (const { header, body } of readTar(decompressLayer(createReadStream(file)))) {
    if (header.type !== 'file') {
      out.push({ header });
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    out.push({ header, data: Buffer.concat(chunks) });
  }
  return out;
}
