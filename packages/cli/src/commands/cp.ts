import { lstat, mkdir, stat } from 'node:fs/promises';
import { basename, join, posix, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerPathStat } from '@hypr/api';
import { humanSize } from '@hypr/api/units';
import { Args, Flags } from '@oclif/core';
import { extractTar, localTar } from '../copy-tar.js';
import { CliError, HyprCommand } from '../hypr-command.js';

interface CpFlags {
  archive: boolean;
  'follow-link': boolean;
  quiet: boolean;
}

/** One side of cp: a container path (`NAME:PATH`) or a local one (absolute or `./` paths never are). */
export interface CpTarget {
  container?: string;
  path: string;
}

/** docker's splitCpArg. */
export function parseCpTarget(arg: string): CpTarget {
  if (arg.startsWith('/') || arg.startsWith('.') || !arg.includes(':')) return { path: arg };
  const i = arg.indexOf(':');
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** SRC ending in `/.` copies the directory's contents; the path without it is what is read. */
function splitContents(path: string): { path: string; contents: boolean } {
  if (path === '.' || path.endsWith('/.')) return { path: path.slice(0, -1) || '.', contents: true };
  return { path, contents: false };
}

function usageError(message: string): CliError {
  return new CliError(message, 1, "See 'hypr cp --help'.", 'CLI_ARGUMENT_MISSING');
}

/** Whether a local path exists and is a directory (a link to a directory counts as one). */
async function localStat(path: string): Promise<{ exists: boolean; isDir: boolean }> {
  const l = await lstat(path).catch(() => undefined);
  if (!l) return { exists: false, isDir: false };
  const target = l.isSymbolicLink() ? await stat(path).catch(() => undefined) : l;
  return { exists: true, isDir: !!target?.isDirectory() };
}

export default class Cp extends HyprCommand {
  static override summary = 'Copy files/folders between a container and the local filesystem';
  static override description =
    'Use "-" as the source to read a tar archive from stdin and extract it to a directory destination in a container.\n' +
    'Use "-" as the destination to stream a tar archive of a container source to stdout.';
  static override usage = [
    'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-',
    'cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  ];
  static override args = {
    source: Args.string({ required: true, description: 'CONTAINER:SRC_PATH, a local path or -' }),
    destination: Args.string({ required: true, description: 'CONTAINER:DEST_PATH, a local path or -' }),
  };
  static override flags = {
    archive: Flags.boolean({ char: 'a', summary: 'Archive mode (copy all uid/gid information)' }),
    'follow-link': Flags.boolean({ char: 'L', summary: 'Always follow symbol link in SRC_PATH' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress progress output during copy' }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parseArgs<CpFlags, { source: string; destination: string }>(Cp);
    const src = parseCpTarget(args.source);
    const dst = parseCpTarget(args.destination);
    if (!src.path || !dst.path) throw usageError('filepath can not be empty');
    if (src.container !== undefined && dst.container !== undefined)
      throw usageError('copying between containers is not supported');
    if (src.container === undefined && dst.container === undefined)
      throw usageError('must specify at least one container source');
    if (src.container !== undefined) await this.copyOut(src.container, src.path, dst.path, flags);
    else await this.copyIn(src.path, dst.container as string, dst.path, flags);
  }

  private done(bytes: number, to: string, flags: CpFlags): void {
    if (!flags.quiet) this.errLine(`Successfully copied ${humanSize(bytes)} to ${to}`);
  }

  /** CONTAINER:SRC → DEST (or stdout). */
  private async copyOut(container: string, srcArg: string, destArg: string, flags: CpFlags): Promise<void> {
    const { path: srcPath, contents } = splitContents(srcArg);
    const stream = this.client.containers.copyFrom({ id: container, path: srcPath, followLink: flags['follow-link'] });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done || first.value.msg.case !== 'stat')
      throw new CliError(`the daemon sent no description of ${srcPath}`, 1, undefined, 'CLI_FAILED');
    const from = first.value.msg.value;
    async function* data(): AsyncGenerator<Uint8Array> {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        if (r.value.msg.case === 'data') yield r.value.msg.value;
      }
    }
    if (destArg === '-') {
      await pipeline(data(), process.stdout as unknown as Writable);
      return;
    }
    const out = await this.outputPath(from, srcPath, contents, destArg);
    if (from.isDir) await mkdir(out, { recursive: true });
    const bytes = await extractTar(data(), out, flags.archive);
    this.done(bytes, destArg, flags);
  }

  /** Where a container's SRC lands on the host, by docker's rules. */
  private async outputPath(from: ContainerPathStat, srcPath: string, contents: boolean, destArg: string) {
    const dest = resolve(destArg);
    if ((contents || srcPath.endsWith('/')) && !from.isDir)
      throw new CliError(
        `${srcPath}: not a directory`,
        1,
        'a source ending in / or /. must be a directory',
        'CLI_FAILED',
      );
    const st = await localStat(dest);
    if (!st.exists) {
      if (destArg.endsWith('/') && !from.isDir)
        throw new CliError(
          `no such directory: ${destArg}`,
          1,
          'a destination ending in / must be an existing directory',
          'CLI_FILE_NOT_FOUND',
        );
      return dest;
    }
    if (!st.isDir) {
      if (from.isDir) throw new CliError(`cannot copy a directory to a file: ${destArg}`, 1, undefined, 'CLI_FAILED');
      return dest;
    }
    return from.isDir && contents ? dest : join(dest, from.name);
  }

  /** SRC (or a tar on stdin) → CONTAINER:DEST. */
  private async copyIn(srcArg: string, container: string, destArg: string, flags: CpFlags): Promise<void> {
    const destPath = destArg.startsWith('/') ? destArg : `/${destArg}`;
    if (srcArg === '-') {
      await this.client.containers.copyTo(this.upload(container, destPath, process.stdin));
      return;
    }
    const { path: srcPath, contents } = splitContents(srcArg);
    const src = resolve(srcPath);
    const srcStat = await (flags['follow-link'] ? stat(src) : lstat(src)).catch(() => {
      throw new CliError(`lstat ${src}: no such file or directory`, 1, undefined, 'CLI_FILE_NOT_FOUND');
    });
    const srcIsDir = srcStat.isDirectory();
    if ((contents || srcPath.endsWith('/')) && !srcIsDir)
      throw new CliError(
        `${srcArg}: not a directory`,
        1,
        'a source ending in / or /. must be a directory',
        'CLI_FAILED',
      );
    const d = await this.client.containers.statPath({ id: container, path: destPath });
    let dir: string;
    let name: string;
    if (d.exists && d.stat?.isDir) {
      dir = destPath;
      name = basename(src);
    } else if (d.exists) {
      if (srcIsDir)
        throw new CliError(`cannot copy a directory to a file: ${container}:${destArg}`, 1, undefined, 'CLI_FAILED');
      dir = posix.dirname(destPath);
      name = posix.basename(destPath);
    } else {
      if (destArg.endsWith('/'))
        throw new CliError(
          `no such directory: ${container}:${destArg}`,
          1,
          'a destination ending in / must be an existing directory',
          'CLI_FILE_NOT_FOUND',
        );
      dir = posix.dirname(destPath);
      name = posix.basename(destPath);
    }
    // Contents into an existing directory: the children at the tar's top; else one top entry.
    const intoDir = srcIsDir && contents && d.exists && !!d.stat?.isDir;
    let bytes = 0;
    const tar = localTar(src, name, { keepOwner: flags.archive, contents: intoDir, follow: flags['follow-link'] });
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const c of tar) {
        bytes += c.length;
        yield c;
      }
    }
    await this.client.containers.copyTo(this.upload(container, dir, counted()));
    this.done(bytes, `${container}:${destArg}`, flags);
  }

  private async *upload(container: string, dir: string, data: AsyncIterable<Uint8Array>) {
    yield { msg: { case: 'start' as const, value: { id: container, dir } } };
    for await (const c of data) yield { msg: { case: 'data' as const, value: c } };
  }
}
