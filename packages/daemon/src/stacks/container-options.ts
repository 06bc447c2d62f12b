/**
 * One replica of a compose service as the container Orchestrator creates it: docker's `run`
 * options (ports, volumes, tmpfs, restart policy, health check …) and compose's labels.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackService, StackSpec } from '@hypr/core/compose';
import type { CreateContainerOptions, RestartPolicyName } from '../containers/index.js';
import {
  LABEL_CONFIG_FILES,
  LABEL_HASH,
  LABEL_NUMBER,
  LABEL_ONEOFF,
  LABEL_PROJECT,
  LABEL_SERVICE,
  LABEL_WORKING_DIR,
} from './labels.js';
import type { RunOptions } from './types.js';

const MiB = 1024 * 1024;

export interface ReplicaOptions {
  /** The replica's number (`<project>-<service>-<n>`). */
  number: number;
  /** The service's config hash (labels: recreate only when it changes). */
  hash: string;
  projectDir: string;
  configFiles: string[];
  /** hyprd has networking: the container joins the service's first network. */
  networked: boolean;
  /** Where inline secrets and configs are written (`<stacksDir>/<project>/<kind>s/<name>`). */
  stacksDir: string;
}

/** docker's `-p` text for a compose port. */
export function portText(p: StackService['ports'][number]): string {
  const host = p.hostPort === undefined ? '' : `${p.hostPort}${p.hostPortEnd ? `-${p.hostPortEnd}` : ''}`;
  const ip = p.hostIp ? `${p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp}:` : '';
  const prefix = host || ip ? `${ip}${host}:` : '';
  return `${prefix}${p.containerPort}/${p.protocol}`;
}

/** `-v` and `--tmpfs` texts for the service's mounts, secrets and configs. */
function mountTexts(spec: StackSpec, svc: StackService, stacksDir: string): { volumes: string[]; tmpfs: string[] } {
  const volumes: string[] = [];
  const tmpfs: string[] = [];
  for (const m of svc.mounts) {
    if (m.type === 'bind') volumes.push(`${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
    else if (m.type === 'volume')
      volumes.push(m.source ? `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}` : m.target);
    else {
      const o = [m.sizeBytes ? `size=${m.sizeBytes}` : '', m.mode !== undefined ? `mode=${m.mode.toString(8)}` : ''];
      tmpfs.push(o.some(Boolean) ? `${m.target}:${o.filter(Boolean).join(',')}` : m.target);
    }
  }
  for (const f of svc.files) {
    const src = f.sourceFile ?? join(stacksDir, spec.name, `${f.kind}s`, f.name);
    volumes.push(`${src}:${f.target}:ro`);
  }
  return { volumes, tmpfs };
}

function composeLabels(spec: StackSpec, svc: StackService, o: ReplicaOptions): Record<string, string> {
  return {
    ...svc.labels,
    [LABEL_PROJECT]: spec.name,
    [LABEL_SERVICE]: svc.name,
    [LABEL_NUMBER]: String(o.number),
    [LABEL_HASH]: o.hash,
    [LABEL_ONEOFF]: 'False',
    [LABEL_WORKING_DIR]: o.projectDir,
    [LABEL_CONFIG_FILES]: o.configFiles.join(','),
  };
}

/** Argv overrides: the daemon's entrypoint is one word, as docker's --entrypoint; the rest goes before the command. */
function argvOptions(svc: StackService): Pick<CreateContainerOptions, 'entrypoint' | 'command'> {
  if (svc.entrypoint)
    return { entrypoint: svc.entrypoint[0] ?? '', command: [...svc.entrypoint.slice(1), ...(svc.command ?? [])] };
  return svc.command ? { command: svc.command } : {};
}

function healthOptions(svc: StackService): Pick<CreateContainerOptions, 'healthcheck' | 'noHealthcheck'> {
  const hc = svc.healthcheck;
  if (hc === null) return { noHealthcheck: true };
  if (!hc) return {};
  const { test, intervalMs, timeoutMs, startPeriodMs, retries } = hc;
  return { healthcheck: { test, intervalMs, timeoutMs, startPeriodMs, retries } };
}

export function replicaCreateOptions(spec: StackSpec, svc: StackService, o: ReplicaOptions): CreateContainerOptions {
  const { volumes, tmpfs } = mountTexts(spec, svc, o.stacksDir);
  const out: CreateContainerOptions = {
    image: svc.image,
    name: svc.containerName ?? `${spec.name}-${svc.name}-${o.number}`,
    env: Object.entries(svc.env).map(([k, v]) => `${k}=${v}`),
    hostname: svc.hostname,
    labels: composeLabels(spec, svc, o),
    ports: svc.ports.map(portText),
    volumes,
    ...(tmpfs.length ? { tmpfs } : {}),
    restartPolicy: { name: svc.restart.policy as RestartPolicyName, maximumRetryCount: svc.restart.maxRetries ?? 0 },
    tty: svc.tty,
    openStdin: svc.stdinOpen,
    stopSignal: svc.stopSignal,
    stopTimeoutSeconds: Math.ceil(svc.stopGracePeriodMs / 1000),
    ...argvOptions(svc),
    ...healthOptions(svc),
  };
  if (o.networked) {
    // The first network at create; the NetworkManager's `connect` adds the others (provisioner.ts).
    const first = svc.networks[0];
    out.network = first
      ? { network: first.name, aliases: first.aliases, ...(first.ipv4Address ? { ip: first.ipv4Address } : {}) }
      : { network: 'none' };
  }
  if (svc.workingDir) out.workdir = svc.workingDir;
  if (svc.user) out.user = svc.user;
  if (svc.resources.cpus) out.cpus = svc.resources.cpus;
  if (svc.resources.memoryMiB) out.memoryBytes = svc.resources.memoryMiB * MiB;
  return out;
}

/** Secrets and configs given inline (`content:`, `environment:`) become files under the stack's directory. */
export async function writeInlineFiles(stacksDir: string, project: string, svc: StackService): Promise<void> {
  for (const f of svc.files) {
    if (f.sourceFile || f.content === undefined) continue;
    const dir = join(stacksDir, project, `${f.kind}s`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, f.name), f.content, { mode: f.mode & 0o777 });
  }
}

/**
 * `compose run`'s one-off container: the service with the run's overrides, named
 * `<project>-<service>-run-<12 hex>`, labelled oneoff, no restart policy, its ports published only
 * with --service-ports (as docker compose).
 */
export function oneOffCreateOptions(
  spec: StackSpec,
  run: RunOptions,
  o: Pick<ReplicaOptions, 'networked' | 'stacksDir'>,
): CreateContainerOptions {
  const base = spec.services[run.service];
  const env = { ...base.env };
  for (const kv of run.env) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const svc: StackService = {
    ...base,
    env,
    ports: run.servicePorts ? base.ports : [],
    restart: { policy: 'no' },
    tty: run.tty,
    stdinOpen: run.interactive,
    containerName: undefined,
    ...(run.entrypoint ? { entrypoint: run.entrypoint } : {}),
    ...(run.command ? { command: run.command } : {}),
    ...(run.user !== undefined ? { user: run.user } : {}),
    ...(run.workdir !== undefined ? { workingDir: run.workdir } : {}),
  };
  const out = replicaCreateOptions(spec, svc, {
    ...o,
    number: 1,
    hash: '',
    projectDir: run.projectDir,
    configFiles: run.configFiles,
  });
  const labels: Record<string, string> = { ...out.labels, [LABEL_ONEOFF]: 'True' };
  delete labels[LABEL_NUMBER];
  delete labels[LABEL_HASH];
  return {
    ...out,
    name: run.name ?? `${spec.name}-${run.service}-run-${randomBytes(6).toString('hex')}`,
    labels,
    autoRemove: run.rm,
  };
}
