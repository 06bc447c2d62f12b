/**
 * Named and anonymous volumes: a directory `$HYPR_HOME/volumes/<name>/_data` per volume, recorded
 * in the `volumes` table with its labels. Anonymous volumes carry docker's
 * `com.docker.volume.anonymous` label. Which containers use a volume is read from the containers'
 * stored mounts, so the table never disagrees with them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HyprError, type HyprState, type Logger, containers, runCommand, volumes } from '@hypr/core';
import { eq } from 'drizzle-orm';
import { VOLUME_NAME_PATTERN } from './mount-spec.js';

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export type VolumeRow = typeof volumes.$inferSelect;

export interface VolumeView {
  name: string;
  driver: string;
  mountpoint: string;
  labels: Record<string, string>;
  createdAt: number;
  anonymous: boolean;
  /** Containers whose mounts name this volume. */
  usedBy: { id: string; name: string }[];
}

/** A mount as stored with a container: resolved at create, mounted at every start. */
export type ResolvedMount =
  | { type: 'bind'; source: string; target: string; readOnly: boolean; createSource: boolean }
  | {
      type: 'volume';
      name: string;
      source: string;
      target: string;
      readOnly: boolean;
      noCopy: boolean;
      anonymous: boolean;
    }
  | { type: 'tmpfs'; target: string; options: string; flag: 'tmpfs' | 'mount' };

/**
 * Where copy-up reads an image's files: its flattened ext4 disk, or a function that unpacks one path
 * of the image (from its layers) under a directory, at the same path.
 */
export type ImageFiles = { disk: string } | { unpack: (imagePath: string, into: string) => Promise<void> };

export class VolumeManager {
  constructor(
    private readonly state: HyprState,
    readonly dir: string,
    private readonly logger: Logger,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o701 });
  }

  dataPath(name: string): string {
    return join(this.dir, name, '_data');
  }

  private row(name: string): VolumeRow | undefined {
    return this.state.db.select().from(volumes).where(eq(volumes.name, name)).get();
  }

  /** Every container's volume mounts, by volume name. */
  private usage(): Map<string, { id: string; name: string }[]> {
    const out = new Map<string, { id: string; name: string }[]>();
    for (const c of this.state.db.select().from(containers).all()) {
      const mounts = (JSON.parse(c.config) as { mounts?: ResolvedMount[] }).mounts ?? [];
      for (const m of mounts) {
        if (m.type !== 'volume') continue;
        const list = out.get(m.name) ?? [];
        if (!list.some((u) => u.id === c.id)) list.push({ id: c.id, name: c.name });
        out.set(m.name, list);
      }
    }
    return out;
  }

  private view(r: VolumeRow, usage = this.usage()): VolumeView {
    const labels = JSON.parse(r.labels) as Record<string, string>;
    return {
      name: r.name,
      driver: r.driver,
      mountpoint: r.mountpoint,
      labels,
      createdAt: r.createdAt,
      anonymous: ANONYMOUS_LABEL in labels,
      usedBy: usage.get(r.name) ?? [],
    };
  }

  /**
   * docker volume create: makes the volume, or returns the existing one of that name (as docker
   * does). Without a name, an anonymous-style random 64-hex name is chosen.
   */
  create(name?: string, labels: Record<string, string> = {}, opts: { driver?: string } = {}): VolumeView {
    if (opts.driver && opts.driver !== 'local')
      throw new HyprError(
        'VOLUME_DRIVER_NOT_SUPPORTED',
        `volume driver ${opts.driver} is not supported`,
        'use --driver local',
      );
    const n = name || randomBytes(32).toString('hex');
    if (!VOLUME_NAME_PATTERN.test(n))
      throw new HyprError(
        'INVALID_VOLUME_NAME',
        `create ${n}: "${n}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    const existing = this.row(n);
    if (existing) return this.view(existing);
    const data = this.dataPath(n);
    mkdirSync(data, { recursive: true, mode: 0o755 });
    this.state.db
      .insert(volumes)
      .values({ name: n, driver: 'local', mountpoint: data, labels: JSON.stringify(labels), createdAt: Date.now() })
      .onConflictDoNothing()
      .run();
    this.logger.info({ volume: n }, 'volume created');
    return this.view(this.row(n)!);
  }

  /** A new anonymous volume (`-v /path`, image VOLUME). */
  createAnonymous(): VolumeView {
    return this.create(undefined, { [ANONYMOUS_LABEL]: '' });
  }

  /** The volume for `-v NAME:…`: created when missing; `created` says whether it was. */
  ensure(name: string, labels?: Record<string, string>): { volume: VolumeView; created: boolean } {
    const r = this.row(name);
    if (r) return { volume: this.view(r), created: false };
    return { volume: this.create(name, labels), created: true };
  }

  inspect(name: string): VolumeView {
    const r = this.row(name);
    if (!r) throw new HyprError('VOLUME_NOT_FOUND', `get ${name}: no such volume`);
    return this.view(r);
  }

  /** docker volume ls, with docker's filters: name= (substring), label=K or K=V, dangling=true|false. */
  list(filters: string[] = []): VolumeView[] {
    const usage = this.usage();
    const parsed = filters.map((f) => {
      const i = f.indexOf('=');
      if (i < 0) throw new HyprError('INVALID_FILTER', `bad format of filter (expected name=value): ${f}`);
      const key = f.slice(0, i);
      if (!['name', 'label', 'dangling', 'driver'].includes(key))
        throw new HyprError('INVALID_FILTER', `invalid filter '${key}'`);
      if (key === 'dangling' && !['true', 'false', '1', '0'].includes(f.slice(i + 1)))
        throw new HyprError('INVALID_FILTER', `invalid filter 'dangling=${f.slice(i + 1)}'`);
      return { key, value: f.slice(i + 1) };
    });
    const byKey = (k: string) => parsed.filter((p) => p.key === k).map((p) => p.value);
    return this.state.db
      .select()
      .from(volumes)
      .all()
      .map((r) => this.view(r, usage))
      .filter((v) => {
        const names = byKey('name');
        if (names.length && !names.some((n) => v.name.includes(n))) return false;
        for (const l of byKey('label')) {
          const i = l.indexOf('=');
          if (i < 0 ? !(l in v.labels) : v.labels[l.slice(0, i)] !== l.slice(i + 1)) return false;
        }
        const drivers = byKey('driver');
        if (drivers.length && !drivers.includes(v.driver)) return false;
        for (const d of byKey('dangling')) {
          const dangling = d === 'true' || d === '1';
          if (dangling !== (v.usedBy.length === 0)) return false;
        }
        return true;
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** docker volume rm: refused while a container (even a stopped one) uses it; -f ignores a missing volume. */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const r = this.row(name);
    if (!r) {
      if (opts.force) return;
      throw new HyprError('VOLUME_NOT_FOUND', `get ${name}: no such volume`);
    }
    const users = this.usage().get(name) ?? [];
    if (users.length)
      throw new HyprError(
        'VOLUME_IN_USE',
        `remove ${name}: volume is in use - [${users.map((u) => `${u.id} (${u.name})`).join(', ')}]`,
        `remove the container first: hypr rm ${users[0].name}`,
      );
    this.state.db.delete(volumes).where(eq(volumes.name, name)).run();
    await rm(join(this.dir, name), { recursive: true, force: true });
    this.logger.info({ volume: name }, 'volume removed');
  }

  /** docker volume prune: unused anonymous volumes, or with `all` every unused volume. */
  async prune(
    opts: { all?: boolean; filters?: string[] } = {},
  ): Promise<{ deleted: string[]; reclaimedBytes: number }> {
    const deleted: string[] = [];
    let reclaimedBytes = 0;
    for (const v of this.list([...(opts.filters ?? []), 'dangling=true'])) {
      if (!opts.all && !v.anonymous) continue;
      reclaimedBytes += diskUsage(join(this.dir, v.name));
      await this.remove(v.name);
      deleted.push(v.name);
    }
    return { deleted, reclaimedBytes };
  }

  /** rm -v and --rm: the container's anonymous volumes that no other container uses. */
  async removeAnonymous(mounts: ResolvedMount[]): Promise<string[]> {
    const usage = this.usage();
    const out: string[] = [];
    for (const m of mounts) {
      if (m.type !== 'volume' || !m.anonymous || usage.get(m.name)?.length) continue;
      await this.remove(m.name, { force: true }).catch((e) =>
        this.logger.warn({ err: e, volume: m.name }, 'keep volume'),
      );
      out.push(m.name);
    }
    return out;
  }

  /**
   * docker's copy-up: an empty volume mounted where the image has a directory is first filled with
   * that directory's content (modes, owners and symlinks kept), read from the image's ext4 disk
   * with debugfs, so no loop mount or root is needed, or, with layer disks, from its layers.
   */
  async copyUp(name: string, files: ImageFiles, imagePath: string): Promise<boolean> {
    const data = this.dataPath(name);
    if ((await readdir(data).catch(() => ['?'])).length) return false;
    const tmp = join(this.dir, name, `.copyup-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp, { recursive: true });
    try {
      let src: string;
      if ('disk' in files) {
        await runCommand('debugfs', ['-R', `rdump "${imagePath}" ${tmp}`, files.disk], { packageHint: 'e2fsprogs' });
        const entries = await readdir(tmp);
        if (entries.length !== 1) return false; // nothing at that path in the image
        src = join(tmp, entries[0]);
      } else {
        // Only real directories lead there: the unpack follows no symlink of the image out of tmp.
        await files.unpack(imagePath, tmp);
        src = join(tmp, imagePath);
      }
      const st = await lstat(src).catch(() => undefined);
      if (!st?.isDirectory()) return false;
      for (const e of await readdir(src)) await rename(join(src, e), join(data, e));
      await chmod(data, st.mode & 0o7777);
      await chown(data, st.uid, st.gid).catch(() => {});
      this.logger.info({ volume: name, path: imagePath }, 'volume filled from the image');
      return true;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  exists(name: string): boolean {
    return !!this.row(name) && existsSync(this.dataPath(name));
  }

  /** Whether a host path exists and is a directory (bind sources). */
  static async kindOf(path: string): Promise<'dir' | 'other' | 'missing'> {
    const st = await stat(path).catch(() => undefined);
    return !st ? 'missing' : st.isDirectory() ? 'dir' : 'other';
  }
}

function diskUsage(path: string): number {
  let total = 0;
  const walk = (p: string) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const full = join(p, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) total += statSync(full).size;
    }
  };
  try {
    walk(path);
  } catch {
    /* gone meanwhile */
  }
  return total;
}

/** docker volume inspect's document. */
export function inspectVolume(v: VolumeView): Record<string, unknown> {
  return {
    CreatedAt: new Date(v.createdAt).toISOString().replace(/\.\d+Z$/, 'Z'),
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: null,
    Scope: 'local',
  };
}
