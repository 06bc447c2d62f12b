/**
 * The OCI bundle's config.json (runtime-spec config.md) as a HYPR VM sees it: the program
 * (process.args/env/cwd/user), the root filesystem directory, the hostname, the mounts a VM can
 * honour and the VM's size from linux.resources. What a VM provides by itself (/proc, /sys, /dev,
 * namespaces, cgroups, capabilities, seccomp) is read and left to Kestrel. Every bad value is a
 * ConfigKeyError naming the file and the key path.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ConfigKeyError, HyprError } from '@hypr/core/errors';
import type { GuestMount } from '@hypr/core/vmm';

/** A program to run: the container's init (config.json's process) or an exec (runc exec --process). */
export interface ProcessSpec {
  argv: string[];
  env: string[];
  cwd: string;
  /** "uid:gid", as Kestrel's job takes it. */
  user: string;
  terminal: boolean;
}

export interface BundleSpec {
  bundle: string;
  /** The engine's root filesystem directory (absolute), shared read-only into the VM. */
  rootfs: string;
  readonly: boolean;
  process: ProcessSpec;
  hostname?: string;
  mounts: GuestMount[];
  /** Nameservers read from the /etc/resolv.conf the engine bind-mounts, if any. */
  dns: string[];
  /** Entries of the /etc/hosts the engine bind-mounts (--add-host, pod hostAliases), beyond localhost. */
  hosts: { name: string; address: string }[];
  /** The engine's network namespace (linux.namespaces, type network, with a path): the VM takes its interfaces. */
  netnsPath?: string;
  memoryMiB?: number;
  cpus?: number;
  annotations: Record<string, string>;
  /** Mounts the VM does not take, with the reason (reported in the runtime's log, not fatal). */
  skipped: string[];
}

type Json = Record<string, unknown>;

/** Destinations Kestrel sets up itself inside the VM (runc's masked/readonly paths included). */
const PROVIDED_BY_GUEST = ['/proc', '/sys', '/dev'];
const TMPFS_DATA = /^(size|mode|nr_inodes|uid|gid)=/;
/** The smallest VM that boots Kestrel and a shell comfortably. */
const MIN_MEMORY_MIB = 64;

class ConfigReader {
  constructor(readonly file: string) {}

  fail(path: string, message: string, hint?: string): never {
    throw new ConfigKeyError('CONFIG_INVALID', message, this.file, path, undefined, hint);
  }

  object(v: unknown, path: string): Json {
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(path, 'is not an object');
    return v as Json;
  }

  optionalObject(v: unknown, path: string): Json | undefined {
    return v === undefined || v === null ? undefined : this.object(v, path);
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `is not a string: ${JSON.stringify(v)}`);
    return v;
  }

  optionalString(v: unknown, path: string): string | undefined {
    return v === undefined || v === null ? undefined : this.string(v, path);
  }

  strings(v: unknown, path: string): string[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(path, 'is not a list of strings');
    return v.map((s, i) => this.string(s, `${path}[${i}]`));
  }

  wholeNumber(v: unknown, path: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      this.fail(path, `is not a whole number: ${JSON.stringify(v)}`);
    return v;
  }
}

/** Reads and parses BUNDLE/config.json. */
export function loadBundle(bundle: string): BundleSpec {
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new HyprError(
      'CONFIG_INVALID',
      `cannot read the bundle's config ${file}: ${(e as Error).message}`,
      'pass the bundle directory that holds config.json with --bundle',
      { cause: e },
    );
  }
  return parseBundleConfig(text, bundle, file);
}

export function parseBundleConfig(text: string, bundle: string, file = join(bundle, 'config.json')): BundleSpec {
  const r = new ConfigReader(file);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigKeyError('CONFIG_INVALID', `is not JSON: ${(e as Error).message}`, file, '<root>');
  }
  const config = r.object(raw, '<root>');
  const root = r.object(config.root, 'root');
  const rootPath = r.string(root.path, 'root.path');
  if (!rootPath) r.fail('root.path', 'is empty', 'name the root filesystem directory, relative to the bundle');
  if (config.process === undefined) r.fail('process', 'is missing', 'a container needs a process to run');
  const skipped: string[] = [];
  const files: EngineFiles = { dns: [], hosts: [] };
  const mounts = parseMounts(r, config.mounts, bundle, skipped, files);
  const linux = r.optionalObject(config.linux, 'linux');
  const resources = r.optionalObject(linux?.resources, 'linux.resources');
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.optionalObject(config.annotations, 'annotations') ?? {}))
    annotations[k] = r.string(v, `annotations.${k}`);
  return {
    bundle,
    rootfs: isAbsolute(rootPath) ? rootPath : join(bundle, rootPath),
    readonly: root.readonly === true,
    process: parseProcess(config.process, file, 'process'),
    hostname: r.optionalString(config.hostname, 'hostname') || undefined,
    mounts,
    dns: files.dns,
    hosts: files.hosts,
    netnsPath: networkNamespace(r, linux?.namespaces),
    memoryMiB: memoryOf(r, resources),
    cpus: cpusOf(r, resources),
    annotations,
    skipped,
  };
}

/** A process object: config.json's `process`, or the file `runc exec --process` reads (at prefix ''). */
export function parseProcess(v: unknown, file: string, prefix = ''): ProcessSpec {
  const r = new ConfigReader(file);
  const key = (k: string) => (prefix ? `${prefix}.${k}` : k);
  const p = r.object(v, prefix || '<root>');
  const argv = r.strings(p.args, key('args'));
  if (argv.length === 0)
    r.fail(key('args'), 'is empty', 'give the program to run, for example ["sh", "-c", "echo hi"]');
  const user = r.optionalObject(p.user, key('user')) ?? {};
  const uid = r.wholeNumber(user.uid, key('user.uid')) ?? 0;
  const gid = r.wholeNumber(user.gid, key('user.gid')) ?? 0;
  const cwd = r.optionalString(p.cwd, key('cwd')) ?? '/';
  if (!cwd.startsWith('/')) r.fail(key('cwd'), `is not an absolute path: ${JSON.stringify(cwd)}`);
  return {
    argv,
    env: r.strings(p.env, key('env')),
    cwd,
    user: `${uid}:${gid}`,
    terminal: p.terminal === true,
  };
}

function underGuestOwned(dest: string): boolean {
  return PROVIDED_BY_GUEST.some((d) => dest === d || dest.startsWith(`${d}/`));
}

/** Mounts the VM can make: bind mounts of directories (shared into the VM) and tmpfs. */
/** What the engine's bind-mounted /etc files say, for Kestrel to write into the guest's own. */
interface EngineFiles {
  dns: string[];
  hosts: { name: string; address: string }[];
}

function parseMounts(r: ConfigReader, v: unknown, bundle: string, skipped: string[], files: EngineFiles): GuestMount[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) r.fail('mounts', 'is not a list');
  const out: GuestMount[] = [];
  v.forEach((item, i) => {
    const m = r.object(item, `mounts[${i}]`);
    const target = r.string(m.destination, `mounts[${i}].destination`);
    if (!target.startsWith('/')) r.fail(`mounts[${i}].destination`, `is not an absolute path: ${target}`);
    const type = r.optionalString(m.type, `mounts[${i}].type`) ?? '';
    const source = r.optionalString(m.source, `mounts[${i}].source`) ?? '';
    const options = r.strings(m.options, `mounts[${i}].options`);
    if (underGuestOwned(target)) return;
    if (type === 'tmpfs') {
      const data = options.filter((o) => TMPFS_DATA.test(o));
      out.push({ type: 'tmpfs', target, ...(data.length ? { options: data.join(',') } : {}) });
      return;
    }
    const isBind = type === 'bind' || options.includes('bind') || options.includes('rbind');
    if (!isBind) return void skipped.push(`${target}: mount type ${type || '(none)'} is not supported in a VM`);
    const hostPath = isAbsolute(source) ? source : join(bundle, source);
    if (target === '/etc/resolv.conf') files.dns.push(...readNameservers(hostPath));
    if (target === '/etc/hosts') files.hosts.push(...readHosts(hostPath));
    if (!isDirectory(hostPath))
      return void skipped.push(`${target}: only directories can be shared into a VM (${hostPath})`);
    out.push({ type: 'share', hostPath, target, readOnly: options.includes('ro') });
  });
  return out;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readNameservers(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((s): s is string => !!s);
  } catch {
    return [];
  }
}

/** The path of the network namespace the engine made, if it gave one (none: a namespace of the VM's own). */
function networkNamespace(r: ConfigReader, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) r.fail('linux.namespaces', 'is not a list');
  for (const [i, item] of v.entries()) {
    const ns = r.object(item, `linux.namespaces[${i}]`);
    if (ns.type !== 'network') continue;
    const path = r.optionalString(ns.path, `linux.namespaces[${i}].path`);
    if (path && !path.startsWith('/')) r.fail(`linux.namespaces[${i}].path`, `is not an absolute path: ${path}`);
    return path || undefined;
  }
  return undefined;
}

/** "ADDRESS NAME…" lines, without the loopback and IPv6 boilerplate Kestrel writes itself. */
function readHosts(path: string): { name: string; address: string }[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: { name: string; address: string }[] = [];
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || /^(127\.|::1$|fe00::|ff0[0-9a-f]::)/i.test(address)) continue;
    for (const name of names) if (name && name !== 'localhost') out.push({ name, address });
  }
  return out;
}

function memoryOf(r: ConfigReader, resources: Json | undefined): number | undefined {
  const memory = r.optionalObject(resources?.memory, 'linux.resources.memory');
  const limit = memory?.limit;
  // -1 (and 0) mean "no limit" in the spec: the VM gets HYPR's default size.
  if (limit === undefined || limit === null || limit === -1 || limit === 0) return undefined;
  const bytes = r.wholeNumber(limit, 'linux.resources.memory.limit') ?? 0;
  return Math.max(MIN_MEMORY_MIB, Math.ceil(bytes / (1024 * 1024)));
}

function cpusOf(r: ConfigReader, resources: Json | undefined): number | undefined {
  const cpu = r.optionalObject(resources?.cpu, 'linux.resources.cpu');
  if (!cpu) return undefined;
  const quota = cpu.quota;
  const period = r.wholeNumber(cpu.period, 'linux.resources.cpu.period');
  if (typeof quota === 'number' && quota > 0 && period) return Math.max(1, Math.ceil(quota / period));
  const set = r.optionalString(cpu.cpus, 'linux.resources.cpu.cpus');
  if (set) return countCpuSet(set) || undefined;
  return undefined;
}

/** "0-3,6" → 5. */
function countCpuSet(set: string): number {
  let n = 0;
  for (const part of set.split(',')) {
    const [a, b] = part.split('-').map((x) => Number(x.trim()));
    if (Number.isInteger(a) && b === undefined) n += 1;
    else if (Number.isInteger(a) && Number.isInteger(b) && b >= a) n += b - a + 1;
  }
  return n;
}
